"""Tables 1-3: protocols, cells as Scalings, window fits, Markdown, committed reports."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import config, fits, paper, results
from widenets_nb.__main__ import main
from widenets_nb.correlators import experiments, figures
from widenets_nb.correlators import parse as wn_parse
from widenets_nb.correlators.estimate import default_inputs, measure
from widenets_nb.nets import Network

TINY = experiments.TableProtocol("table1", widths=(2, 3, 4, 5), inits=16, depth=1)
RESULTS = config.RESULTS_DIR  # the committed results (the fixtures below move RESULTS_DIR)
COMMITTED = [("table1", "quick"), ("table1", "standard"), ("table1", "paper"),
             ("table2", "standard"), ("table3", "standard"), ("table3", "paper")]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """Results and cache in a temporary directory for the whole module."""
    root = tmp_path_factory.mktemp("tables")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "RESULTS_DIR", root / "results")
        mp.setattr(config, "CACHE_DIR", root / "cache")
        yield root


@pytest.fixture(scope="module")
def tiny(dirs):
    """The tanh column of a tiny Table 1, measured once (float64)."""
    return experiments.Table.from_report(
        experiments.table("table1", "quick", ("tanh",), progress=False, protocol=TINY))


def test_profiles_keep_their_numbers():
    p = experiments.TableProtocol.for_profile
    assert p("quick", table="table3") == experiments.TableProtocol("table3", (8, 16, 32), 100)
    assert p("standard").widths == tuple(2**k for k in range(7, 15))
    assert p("standard").inits == 1000
    assert p("standard", table="table3").inits == 4000
    assert p("standard", table="table2").widths == (64, 128, 256, 512, 1024)
    assert p("paper", table="table2").widths[-1] == paper.TABLE_WIDTHS[1]
    assert p("paper", table="table1").widths == tuple(2**k for k in range(7, 17))
    assert (p("paper").depth, p("paper").input_dim) == (paper.TABLE_DEPTH, paper.TABLE_INPUT_DIM)
    assert p("quick", table="table2").init == "sign"
    assert p("quick", table="table3").statistic == "variance"
    with pytest.raises(ValueError, match="unknown table"):
        p("quick", table="table4")
    assert experiments.ScalingProtocol.for_profile("standard").log2_widths == (6, 10)
    assert experiments.WideScalingProtocol.for_profile("paper").widths == (2**16, 2**18, 2**20)


def test_cells_are_scalings_with_the_paper_and_conjecture_1(tiny):
    assert [tiny.cell(r, "tanh").predicted for r in experiments.ROWS] == [0, 0, 0, -1, -1, -2]
    cell = tiny.cell(3, "tanh")  # the mean NTK: resolved at every width
    assert cell.labels == {"table": "table1", "row": "3", "activation": "tanh"}
    assert cell.fitted and cell.counts == (16,) * 4 and cell.window == (2, 5)
    m = measure(cell.name, TINY.widths, TINY.inits, TINY.seed, activation="tanh", depth=1)
    assert np.array_equal(m.inputs, default_inputs(6, 4, experiments.INPUT_SEED)[:2])
    assert np.allclose(cell.values, m.values, rtol=1e-12)  # cached samples = fresh ones
    assert cell.slope == pytest.approx(
        fits.fit_exponent(m.widths, m.samples, "mean", seed=TINY.seed).slope, rel=1e-12)
    corrected = fits.fit_with_correction(TINY.widths, cell.values, cell.stderr)
    assert cell.corrected.slope == pytest.approx(corrected.slope, rel=1e-9)


def test_small_tables_use_the_t_interval_and_heavy_tailed_variances_the_blocks(tiny):
    assert {s.method for s in tiny.scalings if s.fitted} == {results.STUDENT}  # 16 inits
    specs = experiments.TableProtocol.for_profile("quick", table="table3").specs
    assert [experiments.heavy_tailed(s) for s in specs] == [False, True, False, True, True,
                                                             True]
    assert [experiments.interval_method(s) for s in specs[:2]] == ["auto", "blocks"]
    assert not any(experiments.heavy_tailed(s) for s in TINY.specs)  # means, not variances


def test_linear_cells_carry_the_exact_values_and_their_local_slope():
    """The linear column gets diagrams.exact's values at the measured widths, their local
    slope, the Markdown entry and the figure's exact curve; a tanh network none. Samples:
    normal, with the exact variance (the sampler itself is checked against the exact
    values in tests/test_diagrams_experiments.py)."""
    from widenets_nb.correlators.estimate import Measurement
    from widenets_nb.diagrams.exact import exact

    p = dataclasses.replace(TINY, table="table3", widths=(4, 6, 8), inits=40)
    net = Network(input_dim=4, width=4, depth=1, activation="linear")
    rng = np.random.default_rng(0)
    ms = []
    for spec in p.specs:
        labels = sorted(set(wn_parse(spec).inputs))
        xs = p.inputs()[[k - 1 for k in labels]]
        scale = [1.0] * 3 if "f5" in spec else [exact(spec, 1).value(xs, n) for n in p.widths]
        ms.append(Measurement(spec, p.widths, tuple(np.sqrt(v) * rng.standard_normal(40)
                                                    for v in scale), xs, net))
    scalings, windows = experiments._column(p, "linear", ms)
    t = experiments.Table(p, tuple(scalings), tuple(windows))
    cell = t.cell(1, "linear")
    expected = [exact("var:f1 f2", 1).value(p.inputs()[:2], n) for n in p.widths]
    assert cell.exact == pytest.approx(expected, rel=1e-12)
    assert cell.method == results.BOOTSTRAP and t.cell(2, "linear").method == results.BLOCKS
    kept = [i for i, r in enumerate(cell.resolved) if r]
    weights = (np.take(cell.values, kept) / np.take(cell.stderr, kept)) ** 2
    c = fits.slope_coefficients(np.take(p.widths, kept), weights)
    assert cell.exact_slope == pytest.approx(float(c @ np.log(np.take(expected, kept))))
    assert t.cell(6, "linear").exact is None  # 12 tensors: beyond the engine
    text = experiments.markdown(t)
    assert f"exact {cell.exact_slope:+.3f}" in text and "jackknife" in text
    exact_trace = figures.cell_figure(t, 1, "linear").data[-1]
    assert list(exact_trace.x) == list(p.widths) and "exact" in exact_trace.name
    np.testing.assert_allclose(exact_trace.y, np.abs(expected))
    assert not any("exact" in (tr.name or "") for tr in figures.correlator_figure(
        dataclasses.replace(cell, exact=None)).data)
    tanh = Measurement(ms[0].spec, p.widths, ms[0].samples, ms[0].inputs,
                       dataclasses.replace(net, activation="tanh"))
    assert experiments.exact_values(tanh) is None


def test_window_fits_grow_to_the_fit_over_all_widths(tiny):
    windows = tiny.window_fits(3, "tanh")
    assert [w.widths for w in windows] == [(2, 4), (2, 5)]
    assert (windows[-1].slope, windows[-1].slope_ci) == (tiny.cell(3, "tanh").slope,
                                                         tiny.cell(3, "tanh").slope_ci)
    m = measure(tiny.cell(3, "tanh").name, TINY.widths[:3], TINY.inits, TINY.seed,
                activation="tanh", depth=1)
    assert windows[0].slope == pytest.approx(
        fits.fit_exponent(m.widths, m.samples, "mean", seed=TINY.seed).slope, rel=1e-12)


def test_markdown_formats_every_cell(tiny):
    text = experiments.markdown(tiny)
    row3 = next(line for line in text.splitlines() if line.startswith("| 3 | `f1_a f2_a`"))
    assert row3.endswith(f"| {tiny.cell(3, 'tanh').label()} (paper +0.00) |")
    assert "A n^s (1 + c/n)" in text and "depth 1, widths [2, 3, 4, 5]" in text
    assert "paper's widths only" not in text  # the protocol stops below 2^7


def test_window_figure_draws_the_window_fits(tiny):
    fig = figures.window_figure(tiny)
    windows = tiny.window_fits(3, "tanh")
    ntk = next(t for t in fig.data if t.name == "row 3")
    assert list(ntk.x) == [4, 5] and list(ntk.y) == [w.slope for w in windows]
    assert ntk.error_y.array[1] == pytest.approx(windows[1].slope_ci[1] - windows[1].slope)
    assert ntk.error_y.arrayminus[0] == pytest.approx(windows[0].slope - windows[0].slope_ci[0])
    drawn = {row for row in experiments.ROWS
             if any(w.slope is not None for w in tiny.window_fits(row, "tanh"))}
    assert drawn and {s.y0 for s in fig.layout.shapes if s.line.dash == "dot"} == {
        paper.table_value("table1", "tanh", row) for row in drawn}


def test_window_figure_of_a_committed_table():
    report = results.load("table1", "standard", RESULTS)
    t = experiments.Table.from_report(report)
    fig = figures.window_figure(report)
    assert [a.text for a in fig.layout.annotations] == ["linear", "relu", "tanh"]
    row5 = [tr for tr in fig.data if tr.name == "row 5"]
    assert len(row5) == 3  # one per activation
    tanh = row5[2]
    assert list(tanh.x) == [w.widths[1] for w in t.window_fits(5, "tanh")]
    assert tanh.y[-1] == t.cell(5, "tanh").slope
    assert any(s.x0 == paper.TABLE_WIDTHS[1] for s in fig.layout.shapes)


def test_a_partial_run_keeps_the_other_columns_of_the_same_protocol(dirs, tiny):
    results.save(tiny.report(), "quick", 1.0)
    both = experiments.Table.from_report(
        experiments.table("table1", "quick", ("gelu",), progress=False, protocol=TINY))
    assert both.activations == ("tanh", "gelu")
    assert both.cell(4, "tanh") == tiny.cell(4, "tanh")
    assert both.window_fits(4, "tanh") == tiny.window_fits(4, "tanh")
    assert "(paper" not in experiments._cell(both, 1, "gelu")  # the paper has no gelu
    other = dataclasses.replace(TINY, widths=(2, 3, 4))  # another protocol: not merged
    fresh = experiments.table("table1", "quick", ("gelu",), progress=False, protocol=other)
    assert experiments.Table.from_report(fresh).activations == ("gelu",)


def test_bad_activation_and_options_are_clear_errors(capsys):
    with pytest.raises(ValueError, match="unknown activation"):
        experiments.table("table1", "quick", ("swish",))
    with pytest.raises(ValueError, match="not 'table2'"):
        experiments.table("table2", "quick", protocol=TINY)
    assert main(["reproduce", "fig9", "--activations", "tanh"]) == 2
    assert "fig9 takes no --activations option" in capsys.readouterr().err


@pytest.mark.parametrize(("target", "profile"), COMMITTED)
def test_committed_tables_load_as_typed_reports(target, profile):
    report = results.load(target, profile, RESULTS)
    t = experiments.Table.from_report(report)
    assert t.protocol == experiments.TableProtocol.for_profile(profile, table=target)
    assert np.allclose(report.protocol["inputs"], t.protocol.inputs())
    assert len(t.scalings) == 6 * len(t.activations)
    assert t.activations[:3] == experiments.ACTIVATIONS
    assert experiments.markdown(t) in report.markdown  # the .md is the report's Markdown
    for s in t.scalings:
        assert s.counts == (t.protocol.inits,) * len(t.protocol.widths)
        if s.fitted:  # the stored intercept is the weighted fit's over the resolved widths
            kept = [i for i, r in enumerate(s.resolved) if r]
            slope, intercept = fits.weighted_slope(*(np.take(a, kept) for a in
                                                     (s.widths, s.values, s.stderr)))
            assert intercept == pytest.approx(s.intercept, rel=1e-9)
            assert slope == pytest.approx(s.slope, abs=5e-5)  # committed to 4 decimals


def test_committed_gaussian_tables_agree_with_conjecture_1():
    """Standard profile, tanh (smooth: Conjecture 1 is tight): every Table 1 exponent within
    0.15 of s_C; the 1/n-corrected Table 3 row 2 is consistent with 2 s_C = 0."""
    t1 = experiments.Table.from_report(results.load("table1", "standard", RESULTS))
    for row in experiments.ROWS:
        s = t1.cell(row, "tanh")
        assert abs(s.slope - s.predicted) <= experiments.TOLERANCE, (row, s.label())
    t3 = experiments.Table.from_report(results.load("table3", "standard", RESULTS))
    low, high = t3.cell(2, "tanh").corrected.slope_ci
    assert low <= 0 <= high


def _width_one_integrand(theta: jax.Array, xs: jax.Array) -> jax.Array:
    """Table row 5 of f(x) = V tanh(U . x) (one neuron, D = 4) from explicit tensors."""
    def f(t, x):
        return t[4] * jnp.tanh(t[:4] @ x)

    g = [jax.grad(f)(theta, x) for x in xs[:3]]
    d3 = jax.jacfwd(jax.jacfwd(jax.grad(f)))(theta, xs[3])
    return jnp.einsum("a,b,c,abc->", *g, d3)


def test_sign_weights_tanh_row5_falls_like_one_over_n_at_depth_one():
    """Table 2, row 5: with one hidden layer every term of sum_{mu nu rho} lives on one
    neuron, so the integrand is n^-2 sum_i I(V_i, U_i) and its mean is exactly E[I] / n,
    E[I] a finite average over the 2^5 sign patterns of one neuron. It is far from zero:
    the exponent is -1 (Conjecture 1), not the -2.02 of the paper's Table 2."""
    xs = jnp.asarray(default_inputs(4, 4, 1))
    patterns = jnp.array(list(itertools.product((-1.0, 1.0), repeat=5)))
    exact = float(jnp.mean(jax.vmap(_width_one_integrand, (0, None))(patterns, xs)))
    m = measure("table2.row5", [64], 4000, 0, activation="tanh", depth=1, init="sign",
                inputs=np.asarray(xs), backend="dense")
    assert m.network == Network(input_dim=4, width=64, depth=1, activation="tanh",
                                init="sign")
    assert abs(exact) / 64 > 10 * m.stderr[0]
    assert m.values[0] == pytest.approx(exact / 64, abs=4 * m.stderr[0])


def test_table_column_in_float32_agrees_with_float64(dirs, tiny, float32):
    """The float32 lane: the tables run in float32 (JAX's default). The same tiny column
    measured in float32 is a different draw (the cache keys on the dtype, and random bits
    differ by dtype), so every resolved mean agrees with float64's within 4 combined
    standard errors, and the window and 1/n fits are still produced."""
    assert jnp.result_type(float) == jnp.float32
    params = Network(input_dim=4, width=3, depth=1).sample(jax.random.key(0))
    assert params["V"].dtype == jnp.float32
    t32 = experiments.Table.from_report(
        experiments.table("table1", "quick", ("tanh",), progress=False,
                          protocol=dataclasses.replace(TINY, seed=0)))
    assert t32.protocol == tiny.protocol
    compared = 0
    for row in experiments.ROWS:
        a, b = t32.cell(row, "tanh"), tiny.cell(row, "tanh")
        assert a.values != b.values  # really recomputed, in the other precision
        for v32, e32, v64, e64, ok in zip(a.values, a.stderr, b.values, b.stderr, b.resolved,
                                          strict=True):
            if ok:
                compared += 1
                assert abs(v32 - v64) <= 4 * np.hypot(e32, e64), (row, v32, v64)
    assert compared >= 8
    assert t32.cell(3, "tanh").fitted and len(t32.window_fits(3, "tanh")) == 2
