"""Figs. 9-10 building blocks on tiny MNIST networks, against independent computations."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from widenets_nb import config, paper, results
from widenets_nb.spectra import experiments, measurements, protocols, solvers


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path_factory.getbasetemp() / "spectra_cache")


@pytest.fixture(scope="module")
def small():
    s = measurements.setup(width=64, depth=2, activation="relu", classes=2, per_class=3)
    return s, s.net.sample(jax.random.key(0))


def test_setup_matches_the_paper_protocol(small):
    s, _ = small
    assert s.net.input_scaling and s.net.outputs == 1 and s.x.shape == (6, 784)
    three = measurements.setup(width=8, classes=3, per_class=2)
    assert three.net.outputs == 3 and three.y.shape == (6, 3)
    np.testing.assert_allclose(three.y.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="classes must be 2 or 3"):
        measurements.setup(width=8, classes=4)


PROTOCOLS = (protocols.GapProtocol, protocols.TopProtocol, protocols.MomentProtocol,
             protocols.RmsProtocol, protocols.DensityProtocol, protocols.ExplorerProtocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_protocols_grow_with_the_profile_and_follow_the_active_one(protocol):
    quick, standard, paper_ = (protocol.for_profile(p) for p in config.PROFILES)
    assert protocol.for_profile() == protocol.for_profile(config.PROFILE)
    assert quick.per_class <= standard.per_class <= paper_.per_class
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.seed = 1


def test_committed_results_were_made_with_the_standard_protocols():
    fig9, fig10 = results.load("fig9", "standard"), results.load("fig10", "standard")

    def standard(protocol):
        return json.loads(json.dumps(dataclasses.asdict(protocol.for_profile("standard"))))

    assert fig9.protocol == {"gaps": standard(protocols.GapProtocol),
                             "top": standard(protocols.TopProtocol)}
    assert fig10.protocol == {"moments": standard(protocols.MomentProtocol),
                              "rms": standard(protocols.RmsProtocol),
                              "density": standard(protocols.DensityProtocol)}


def test_instance_keys_never_share_a_stream():
    data = [np.asarray(jax.random.key_data(k)).tobytes()
            for seed in (0, 1) for width in (64, 128) for i in (0, 1)
            for k in measurements.instance_keys(seed, width, i)]
    assert len(set(data)) == len(data) == 16  # key(seed + i) would repeat seed 0, i = 1
    again = measurements.instance_keys(1, 128, 1)
    assert np.asarray(jax.random.key_data(again[1])).tobytes() == data[-1]


def test_eigenvalue_gaps_against_an_independent_solve(small):
    """Certified values against a solve from another start with a larger basis; the
    statistics from their definitions; paired eigenvectors lie mostly in J's rows."""
    s, params = small
    gaps = measurements.eigenvalue_gaps(s, params, count=4)
    reference = solvers.top_eigenvalues(s.net, params, s.x, s.y, 4, krylov=60, seed=5)
    # each value lies within its residual bound of an eigenvalue (Kahan-Parlett)
    assert np.all(gaps.resolved) and np.all(reference.resolved)
    assert np.all(np.abs(gaps.hessian - reference.values) <= gaps.bounds + reference.bounds)
    theta = solvers.ntk_eigenvalues(s.net, params, s.x)
    np.testing.assert_allclose(gaps.theta, theta)
    assert gaps.top == pytest.approx(abs(reference.values[0] - theta[0]), abs=1e-9)
    assert gaps.mean == pytest.approx(np.mean(np.abs(reference.values - theta[:4])), abs=1e-9)
    assert np.all((gaps.overlaps >= 0) & (gaps.overlaps <= 1 + 1e-9))
    paired = gaps.paired
    assert paired[0]  # the top eigenvalue of H is Theta's at width 64
    expected = np.mean(np.abs(gaps.hessian[paired] - theta[gaps.matched[paired]]))
    assert gaps.paired_gap == pytest.approx(expected)
    unresolved = dataclasses.replace(gaps, resolved=np.array([False, True, True, True]))
    assert np.isnan(unresolved.top) and np.isnan(unresolved.mean)


def test_trained_equals_explicit_gradient_descent(small):
    """'After training' parameters equal a hand-written GD loop on the summed loss."""
    s, params = small
    lr, steps = measurements.learning_rate(s, params), 30
    after = measurements.trained(s, params, steps, lr)
    grad = jax.jit(jax.grad(lambda p: solvers.loss(s.net, p, s.x, s.y)))
    reference = params
    for _ in range(steps):
        reference = jax.tree.map(lambda p, g: p - lr * g, reference, grad(reference))
    for name in params:
        np.testing.assert_allclose(after[name], reference[name], rtol=1e-9, atol=1e-12)
    assert solvers.loss(s.net, after, s.x, s.y) < 0.5 * solvers.loss(s.net, params, s.x, s.y)


def test_network_training_is_cached(small, monkeypatch):
    s, _ = small
    key = measurements.instance_keys(7, 64)[0]
    first = measurements.network(s, key, steps=20)
    init = s.net.sample(key)
    reference = measurements.trained(s, init, 20, measurements.learning_rate(s, init))

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of reading the cache")

    monkeypatch.setattr(measurements, "trained", no_training)
    again = measurements.network(s, key, steps=20)
    for name in first:
        np.testing.assert_allclose(first[name], reference[name], rtol=1e-12)
        np.testing.assert_array_equal(again[name], first[name])


def test_moment_gaps_at_init_and_after_training(small):
    """m = 1 vanishes for ReLU (Tr B = 0); Tr A^m matches Tr Theta^m; B shrinks with training."""
    s, params = small
    init = measurements.moment_gaps(s, params, probes=300)
    z_a = (init.trace_a - init.trace_theta) / init.trace_a_se
    assert np.all(np.abs(z_a) < 4.5), z_a
    assert abs(init.relative[0]) < 4.5 * init.relative_se[0]
    assert init.relative[1] > 10 * init.relative_se[1]  # m = 2: + Tr B^2 > 0
    np.testing.assert_allclose(init.relative[1] * init.trace_theta[1], init.trace_b2,
                               rtol=5 * init.trace_b2_se / init.trace_b2)
    after = measurements.trained(s, params, 2000, measurements.learning_rate(s, params))
    late = measurements.moment_gaps(s, after, probes=300)
    assert late.trace_b2 < 0.05 * init.trace_b2


def test_rms_b_is_the_root_mean_square_eigenvalue():
    s = measurements.setup(width=2, depth=1, activation="relu", per_class=2)
    params = s.net.sample(jax.random.key(1))
    size = solvers.num_params(params)
    b = np.asarray(jax.vmap(solvers.operator(s.net, params, s.x, s.y, "B"))(np.eye(size)))
    exact = np.sqrt(np.mean(np.linalg.eigvalsh(b) ** 2))
    rms = measurements.rms_b(s, params, probes=400)
    assert abs(rms.value - exact) < 4.5 * rms.stderr


TINY_GAPS = protocols.GapProtocol(widths=(8, 16), instances=2, per_class=2, depths=(1, 2),
                          activations=("relu",), seed=3)


def test_gap_scalings_are_the_instances_gaps():
    """Each instance is an independent ``eigenvalue_gaps`` call with its own keys."""
    scalings = experiments.gap_scalings(TINY_GAPS, progress=False)
    assert [dict(s.labels) for s in scalings] == [
        {"depth": str(d), "activation": "relu", "statistic": stat}
        for d in (1, 2) for stat in ("top", "paired", "mean")]
    s = measurements.setup(16, 2, "relu", 2, 2, seed=3, gram=TINY_GAPS.gram)
    assert s.x.shape == (4, 4)  # the sweep runs on the Gram inputs of its 4 images
    tops = []
    for i in range(2):
        init, key = measurements.instance_keys(3, 16, i)
        tops.append(measurements.eigenvalue_gaps(s, s.net.sample(init), seed=key).top)
    top = results.Report("fig9", {}, scalings).find(depth=2, statistic="top")
    assert top.widths == (8, 16) and top.counts == (2, 2)
    assert top.values[1] == pytest.approx(np.mean(tops), rel=1e-9)
    assert top.predicted == paper.SLOPES["fig9a.deep"].value
    assert scalings[0].predicted == paper.SLOPES["fig9a.shallow"].value


def test_certified_scaling_leaves_out_uncertified_values():
    nan = float("nan")
    s = experiments.certified_scaling("gap", (8, 16, 32), [[1.0, nan, 1.1], [nan, 0.5],
                                                           [0.3, 0.28, 0.31]], -1.0, {})
    assert s.widths == (8, 32) and s.counts == (2, 3)
    assert s.values[0] == pytest.approx(1.05)
    assert "2 instances without certified values" in s.note and "[16]" in s.note
    none = experiments.certified_scaling("gap", (8,), [[nan, nan]], -1.0, {})
    assert none.widths == () and not none.fitted and "[8]" in none.note


def test_rms_scalings_measure_trace_b2_as_p_rms_squared():
    tiny = protocols.RmsProtocol(widths=(8, 16), instances=2, per_class=2, probes=4,
                                 depths=(1,))
    width, params, trace = experiments.rms_scalings(tiny, progress=False)
    sizes = tuple(measurements.setup(w, 1, "relu", 2, 2).net.num_params for w in tiny.widths)
    assert params.widths == sizes and params.values == width.values
    assert width.predicted == paper.SLOPES["fig10.rms_b"].value
    assert trace.predicted == experiments.TRACE_B2_EXPONENT
    # the mean of P rms^2 is at least P (mean rms)^2 (Jensen), equal only without spread
    assert all(t >= p * v**2 * (1 - 1e-12)
               for t, p, v in zip(trace.values, sizes, width.values, strict=True))


def _tiny_profiles(monkeypatch):
    tiny = (TINY_GAPS, protocols.TopProtocol(width=16, per_class=2, count=4, krylov=12),
            protocols.MomentProtocol(widths=(8,), per_class=2, probes=4, steps=5),
            protocols.RmsProtocol(widths=(8, 16), instances=2, per_class=2, probes=4),
            protocols.DensityProtocol(width=16, per_class=2, steps=5, krylov=8, probes=1,
                                      points=20))
    for protocol in tiny:
        monkeypatch.setattr(type(protocol), "for_profile",
                            classmethod(lambda cls, name=None, p=protocol: p))


def test_fig9_report_round_trips_through_json(monkeypatch):
    _tiny_profiles(monkeypatch)
    report = experiments.fig9("quick")
    back = experiments.Fig9.from_report(
        results.Report.from_json(report.to_json(), report.markdown))
    assert len(back.gaps) == 6 and back.top.width == 16 and back.top.points == 6
    assert back.top.class_blocks.shape == (3, 3)
    assert np.all(back.top.comparison.theta[:-1] >= back.top.comparison.theta[1:])
    assert {(r.depth, r.width, r.instance) for r in back.spectra} == {
        (d, w, i) for d in (1, 2) for w in (8, 16) for i in (0, 1)}
    for r in back.spectra:  # every stored value carries its certificate
        c = r.comparison
        np.testing.assert_array_equal(c.resolved, c.bounds < solvers.RESOLUTION * c.gaps)
    assert report.data["resolution"] == solvers.RESOLUTION
    assert back.gaps[0].label() in report.markdown
    assert report.protocol["gaps"]["seed"] == TINY_GAPS.seed


def test_fig10_report_round_trips_through_json(monkeypatch):
    _tiny_profiles(monkeypatch)
    report = experiments.fig10("quick")
    back = experiments.Fig10.from_report(
        results.Report.from_json(report.to_json(), report.markdown))
    assert [(r.width, r.stage) for r in back.moments] == [(8, "init"), (8, "trained")]
    # 10a: 2 stages x 4 moments; 10b: 2 depths x (width, params, Tr B^2)
    assert len(report.select(figure="10a")) == 8 and len(report.select(figure="10b")) == 6
    m3 = report.find(figure="10a", stage="init", moment=3)
    assert m3.values == tuple(float(r.gaps.relative[2]) for r in back.moments[::2])
    assert m3.predicted == paper.SLOPES["fig10.moments"].value and not m3.fitted
    assert "one initialization per width" in m3.note and m3.summary() in report.markdown
    assert [s.labels["depth"] for s in back.rms] == ["1", "2"]
    assert back.density_width == 16 and back.densities["init"].grid.shape == (20,)
    assert report.find(figure="10b", depth=2, statistic="rms_b", against="width").note


def _by_labels(scalings):
    return {tuple(sorted(s.labels.items())): s for s in scalings}


def test_committed_spectra_and_rms_are_read_not_measured(monkeypatch, float32):
    """Notebook 05's ``committed=True``: the standard profile's ReLU depth-1 Fig. 9a and the
    Fig. 10b scalings come from the committed (float32) reports, with no network measured."""
    def measured(*args, **kwargs):
        pytest.fail("measured again")

    for name in ("setup", "top_comparison", "rms_sweep"):
        monkeypatch.setattr(experiments, name, measured)
    gaps = dataclasses.replace(protocols.GapProtocol.for_profile("standard"),
                               activations=("relu",), depths=(1,))
    got = _by_labels(experiments.gap_scalings(gaps, progress=False, committed=True))
    stored = _by_labels(results.load("fig9", "standard").scalings)
    assert len(got) == len(experiments.STATISTICS)
    for key, s in got.items():
        np.testing.assert_array_equal(s.values, stored[key].values)
        assert s.label() == stored[key].label()
    rms = experiments.rms_scalings(protocols.RmsProtocol.for_profile("standard"),
                                   progress=False, committed=True)
    stored = _by_labels(results.load("fig10", "standard").scalings)
    assert rms and all(np.array_equal(s.values, stored[k].values)
                       for k, s in _by_labels(rms).items())
