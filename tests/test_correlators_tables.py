import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import fits, reproduce
from widenets_nb.__main__ import main
from widenets_nb.correlators import experiments as tables
from widenets_nb.correlators import figures
from widenets_nb.correlators.estimate import default_inputs, measure
from widenets_nb.fits import fit_exponent
from widenets_nb.nets import Network

TINY = tables.Protocol(widths=(2, 3, 4, 5), inits=16, depth=1)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "protocol", lambda name, profile=None: TINY)
    monkeypatch.setattr(tables.config, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(tables.config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path


def test_table_cells_fit_every_window_and_compare_with_the_paper(tiny):
    report = tables.table("table1", "quick", activations=("tanh",))
    rows = report.payload["rows"]
    assert [r["predicted"] for r in rows] == [0, 0, 0, -1, -1, -2]
    cell = rows[2]["fits"]["tanh"]  # mean NTK: resolved at every width
    assert cell["paper"] == 0.0 and cell["fittable"]
    # windows 2..4 and 2..5; the last one is the fit over all widths
    assert [w["widths"] for w in cell["windows"]] == [[2, 4], [2, 5]]
    assert cell["windows"][-1]["slope"] == cell["slope"]
    m = measure(rows[2]["spec"], TINY.widths[:3], TINY.inits, TINY.seed, activation="tanh",
                depth=1)  # the default inputs are the tables' x_1, x_2
    assert np.array_equal(m.inputs, default_inputs(6, 4, tables.INPUT_SEED)[:2])
    assert cell["windows"][0]["slope"] == pytest.approx(
        fit_exponent(m.widths, m.samples, "mean", seed=TINY.seed).slope, abs=1e-4)
    assert "(paper +0.00)" in report.markdown
    corrected = fits.fit_with_correction(TINY.widths, cell["values"], cell["stderr"])
    assert cell["corrected"]["slope"] == pytest.approx(corrected.slope, abs=1e-4)
    assert "A n^s (1 + c/n)" in report.markdown
    fig = figures.window_figure(report.payload)
    ntk = next(t for t in fig.data if t.name == "row 3")
    assert list(ntk.x) == [4, 5] and list(ntk.y) == [w["slope"] for w in cell["windows"]]
    assert ntk.error_y.array[1] == pytest.approx(cell["slope_ci"][1] - cell["slope"])


def test_a_partial_run_keeps_the_other_columns_of_the_same_protocol(tiny):
    reproduce.write("table1", "quick", tables.table("table1", "quick", ("tanh",)), 1.0)
    both = tables.table("table1", "quick", ("gelu",)).payload
    assert list(both["rows"][0]["fits"]) == ["tanh", "gelu"]
    assert both["rows"][0]["fits"]["gelu"]["paper"] is None
    first = tables.load("table1", "quick")["rows"][3]["fits"]["tanh"]
    assert both["rows"][3]["fits"]["tanh"] == first


def test_bad_activation_and_options_are_clear_errors(capsys):
    with pytest.raises(ValueError, match="unknown activation"):
        tables.table("table1", "quick", ("swish",))
    assert main(["reproduce", "fig9", "--activations", "tanh"]) == 2
    assert "fig9 takes no --activations option" in capsys.readouterr().err


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


def test_results_files_name_their_inputs():
    payload = json.loads((tables.config.RESULTS_DIR / "table1_standard.json").read_text())
    xs = default_inputs(6, payload["protocol"]["input_dim"], payload["protocol"]["input_seed"])
    assert np.allclose(payload["protocol"]["inputs"], xs)


def test_scaling_at_draws_the_measurement_and_its_fit():
    from widenets_nb.correlators import panel

    fig, summary = panel.scaling_at("f1_a f2_a", (2, 4, 8), 40, 3, activation="tanh", depth=1)
    m = measure("f1_a f2_a", (2, 4, 8), 40, 3, activation="tanh", depth=1)
    fit = fit_exponent(m.widths, m.samples, m.statistic, seed=3)
    points = fig.data[0]
    assert list(points.x) == [2, 4, 8] and np.allclose(points.y, np.abs(m.values))
    assert f"fitted exponent {fit.slope:+.3f}" in summary and "Conjecture 1: +0" in summary
    _, html_summary = panel.scaling("f1_a f2_a", "tanh", 1, "gaussian", (1, 3), 40, 3)
    assert html_summary == summary.replace(">", "&gt;")
