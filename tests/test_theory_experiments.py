"""Notebook 06's experiments: the coefficient fit, the predicted 1/n coefficient against
Monte Carlo (linear networks, where the exact diagrams engine also applies), the null test,
and the ReLU depth-to-width ratio against the suite's own NTK."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import config
from widenets_nb.correlators.estimate import measure
from widenets_nb.diagrams.exact import exact
from widenets_nb.nets import Network
from widenets_nb.ntk import ntk_entry
from widenets_nb.theory import experiments as X
from widenets_nb.theory import montecarlo, statistics


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def test_fit_coefficient_is_weighted_least_squares_with_calibrated_errors():
    """Against numpy's lstsq on the weighted design, and the standard error against the
    scatter of c_1 over 2000 synthetic data sets y = c_1 + c_2 / n + noise."""
    n = np.array([8.0, 16.0, 32.0, 64.0])
    s = np.array([0.1, 0.15, 0.2, 0.3])
    rng = np.random.default_rng(0)
    y = 1.5 - 3.0 / n + rng.normal(0, s)
    f = X.fit_coefficient(n, y, s)
    a = np.stack([np.ones_like(n), 1 / n], 1) / s[:, None]
    want = np.linalg.lstsq(a, y / s, rcond=None)[0]
    assert f.c1 == pytest.approx(want[0], rel=1e-12) and f.c2 == pytest.approx(want[1],
                                                                              rel=1e-12)
    assert f.dof == 2 and f.chi2 == pytest.approx(np.sum((y / s - a @ want) ** 2), rel=1e-10)
    draws = np.array([X.fit_coefficient(n, 1.5 - 3.0 / n + rng.normal(0, s), s).c1
                      for _ in range(2000)])
    assert draws.mean() == pytest.approx(1.5, abs=4 * f.c1_se / np.sqrt(2000))
    assert draws.std() == pytest.approx(f.c1_se, rel=0.1)  # 2000 draws: ~1.6% scatter
    one = X.fit_coefficient([8], [2.0], [0.5])
    assert (one.c1, one.c1_se, one.c2, one.c2_se, one.dof) == (2.0, 0.5, 0.0, None, 0)
    with pytest.raises(ValueError, match="standard error must be positive"):
        X.fit_coefficient(n, y, np.zeros(4))


def test_protocols_validate_and_have_profiles():
    assert X.CoefficientProtocol.for_profile("quick").widths == (8, 16, 32)
    assert X.CoefficientProtocol.for_profile("standard", activation="gelu").activation == "gelu"
    assert X.DepthWidthProtocol.for_profile("quick").betas == (1 / 16, 1 / 8, 1 / 4, 1 / 2,
                                                               1.0)
    assert X.DepthWidthProtocol.for_profile("quick") == X.DepthWidthProtocol()
    with pytest.raises(ValueError, match="unknown statistic 'kernal'; choose one of kernel"):
        X.CoefficientProtocol("kernal")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        X.CoefficientProtocol(activation="swish")
    with pytest.raises(ValueError, match="inits must be an integer >= 2"):
        X.CoefficientProtocol(inits=1)
    with pytest.raises(ValueError, match="need 0 < low <= high"):
        X.depths_for(32, 0.0)
    assert X.depths_for(100) == (1, 2, 4, 7, 14, 27, 52, 100)


def test_linear_four_point_coefficient_agrees_with_exact_engine_and_monte_carlo(cache_dir):
    """Depth 1, linear: the predicted c_1 is the exact engine's n^-1 coefficient, and the
    Monte Carlo c_1 (readout integrated out) agrees with it within 4 SE; the depth-1 linear
    E[f^4] has no n^-2 term, so the fitted curvature is 0 within 4 SE too."""
    p = X.CoefficientProtocol("four_point", "linear", 1, widths=(4, 8, 16), inits=3000, seed=1)
    c = X.coefficient_comparison(p)
    polynomial = exact("f1 f2 f3 f4", 1).coefficients(p.inputs().tolist())
    assert c.predicted == pytest.approx(float(polynomial[-1]), rel=1e-10)
    assert c.infinite_width == pytest.approx(float(polynomial[0]), rel=1e-10)
    assert c.estimator == X.CONDITIONAL and c.counts == (3000,) * 3
    assert abs(c.z) < 4 and c.relative_se < 0.2  # resolved: the check can fail
    assert abs(c.fit.c2) < 4 * c.fit.c2_se
    np.testing.assert_allclose(c.residuals, 4 * (np.array(c.values) - c.infinite_width) *
                               np.array([1, 2, 4]))
    assert len(list(cache_dir.glob("theory-coefficient-*.npz"))) == 3


def test_comparison_is_read_back_from_the_cache(cache_dir, monkeypatch):
    p = X.CoefficientProtocol("kernel", "linear", 1, widths=(4, 8), inits=500, seed=2)
    first = X.coefficient_comparison(p)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again")

    monkeypatch.setattr(X, "conditional_moments", no_sampling)
    assert X.coefficient_comparison(p) == first
    # a different seed is a different entry
    with pytest.raises(AssertionError, match="sampled again"):
        X.coefficient_comparison(X.CoefficientProtocol("kernel", "linear", 1, widths=(4, 8),
                                                       inits=500, seed=3))


def test_conditional_estimate_matches_the_estimator_it_calls(cache_dir):
    """The per-width values are ``montecarlo.conditional_moments`` at key fold_in(seed, n)."""
    p = X.CoefficientProtocol("kernel", "tanh", 2, widths=(8,), inits=400, seed=5,
                              coincide=True)
    c = X.coefficient_comparison(p)
    pair, _ = montecarlo.conditional_moments(p.network(8), p.inputs(), 400,
                                             jax.random.fold_in(jax.random.key(5), 8))
    assert c.values[0] == pytest.approx(float(pair.mean[0, 1]), rel=1e-12)
    assert c.stderr[0] == pytest.approx(float(pair.stderr[0, 1]), rel=1e-12)
    assert np.allclose(p.inputs()[0], p.inputs()[1])


def test_null_test_which_coefficients_vanish_and_monte_carlo_agrees(cache_dir):
    """By the recursions the kernel's 1/n coefficient vanishes at every depth exactly for
    linear networks (E[G_{l+1} | G_l] is linear in G_l) and on the diagonal of ReLU
    networks (E[relu(z)^2] = K/2), with and without biases, and nowhere for tanh. The Monte
    Carlo coefficient agrees with 0 within 4 SE for the linear kernel and the ReLU diagonal,
    at a resolution that would see a coefficient of the size of tanh's."""
    scan = X.null_scan(depths=(2, 3), activations=("linear", "tanh", "relu"))
    kernel = {(e.activation, e.bias, e.component) for e in scan
              if e.statistic == "kernel" and e.vanishes}
    assert kernel == ({("linear", b, c) for b in (False, True) for c in ("x1, x1", "x1, x2")}
                      | {("relu", b, "x1, x1") for b in (False, True)})
    assert "kernel" in X.null_statistics()
    table = X.null_markdown(scan)
    assert "| tanh | -0.04853 | -0.03735 |" in table  # the depth-3 values (larger |c_1|)
    for p in (X.CoefficientProtocol("kernel", "linear", 2, widths=(4, 8), inits=2000, seed=4),
              X.CoefficientProtocol("kernel", "relu", 2, widths=(4, 8), inits=8000, seed=4,
                                    coincide=True)):  # heavier tails: more networks
        c = X.coefficient_comparison(p)
        assert abs(c.predicted) < 1e-12 and abs(c.z) < 4
        assert c.fit.c1_se < 0.5 * c.infinite_width


def test_sampled_statistic_goes_through_measure(cache_dir):
    """``ntk_mean`` (f1_a f2_a, derivative letters) is measured by ``correlators.measure``
    on the same seed and inputs; its prediction is the registry's."""
    p = X.CoefficientProtocol("ntk_mean", "tanh", 2, widths=(4, 8), inits=50, seed=6)
    assert p.estimator == X.SAMPLED
    c = X.coefficient_comparison(p)
    m = measure("f1_a f2_a", (4, 8), 50, 6, activation="tanh", depth=2, inputs=p.inputs(),
                progress=False)
    np.testing.assert_allclose(c.values, m.values, rtol=1e-12)
    np.testing.assert_allclose(c.stderr, m.stderr, rtol=1e-12)
    function, correlator = statistics.STATISTICS["ntk_mean"]
    assert correlator == "f1_a f2_a"
    assert c.predicted == pytest.approx(float(function(p.network(), p.inputs())
                                              .coefficient_1_over_n), rel=1e-12)


@pytest.mark.parametrize("depth", [1, 3])
def test_relu_ntk_has_the_law_of_the_suite_ntk_on_dense_weights(depth):
    """``relu_ntk`` draws Theta(x, x) in O(d n) (two directions per hidden W); its law is
    that of ``ntk.ntk_entry`` on networks of ``nets`` with all n^2 weights drawn (s_w =
    sqrt 2), width 6: two-sample KS, and the mean and second moment within 4 SE."""
    from scipy import stats

    x = np.array([0.3, -1.2, 0.5, 2.0])
    net = Network(input_dim=4, width=6, depth=depth, activation="relu", weight_std=2**0.5)
    keys = jax.random.split(jax.random.key(10 + depth), 20000)
    dense = np.asarray(jax.jit(jax.vmap(
        lambda k: ntk_entry(net, net.sample(k), jnp.asarray(x), jnp.asarray(x))))(keys))
    lazy = X.ntk_samples(6, depth, x, 20000, jax.random.key(20 + depth))
    assert stats.ks_2samp(dense, lazy).pvalue > 1e-3
    for power in (1, 2):
        a, b = dense**power, lazy**power
        assert abs(a.mean() - b.mean()) < 4 * np.hypot(a.std(), b.std()) / np.sqrt(20000)


def test_ratio_moment_against_a_known_distribution():
    """Exponential(1): E[T^2]/E[T]^2 = 2; the delta-method error against 400 repeats."""
    rng = np.random.default_rng(1)
    r, se = X.ratio_moment(rng.exponential(size=20000))
    assert abs(r - 2) < 4 * se
    repeats = [X.ratio_moment(rng.exponential(size=2000))[0] for _ in range(400)]
    assert np.std(repeats) == pytest.approx(X.ratio_moment(rng.exponential(size=2000))[1],
                                            rel=0.25)


def test_depth_to_width_fits(cache_dir):
    p = X.DepthWidthProtocol(8, (1, 2, 4, 8), 400, seed=0)
    r = X.depth_to_width(p, small_beta=0.3)
    assert r.betas == (0.125, 0.25, 0.5, 1.0) and len(r.ratio) == 4
    assert all(v > 1 for v in r.ratio) and r.ratio[-1] > r.ratio[0]
    beta, y, s = np.array(r.betas[:2]), np.array(r.ratio[:2]) - 1, np.array(r.ratio_se[:2])
    w = 1 / s**2
    assert r.slope == pytest.approx(np.sum(w * beta * y) / np.sum(w * beta**2), rel=1e-10)
    assert r.slope_se == pytest.approx(1 / np.sqrt(np.sum(w * beta**2)), rel=1e-10)
    slope, intercept = np.polyfit(r.betas, np.log(r.ratio), 1,
                                  w=np.array(r.ratio) / np.array(r.ratio_se))
    assert r.rate == pytest.approx(slope, rel=1e-8) and r.intercept == pytest.approx(
        intercept, rel=1e-8)
    assert "ReLU, n = 8, d = 1..8, 400 networks" in r.summary()
    assert set(p.depths) <= set(r.theory_depths) and r.reference() == tuple(
        r.theory[r.theory_depths.index(d)] for d in p.depths)


def test_first_order_ratio_against_monte_carlo(cache_dir):
    """1 + Var_1(d) / (n Theta_inf^2) from the registry against the Monte Carlo ratio of
    wide shallow ReLU networks (n = 64, d = 1, 2: beta small, O(1/n^2) below the error)."""
    r = X.depth_to_width(X.DepthWidthProtocol(64, (1, 2), 4000, seed=1))
    assert r.theory[:2] == pytest.approx(X.first_order_ratio(64, (1, 2)), rel=1e-12)
    for measured, se, predicted in zip(r.ratio, r.ratio_se, r.reference(), strict=True):
        assert abs(measured - predicted) < 4 * se
        assert se < 0.25 * (predicted - 1)  # resolves the 1/n term


def test_ntk_samples_do_not_depend_on_the_chunking(monkeypatch):
    """Padding the last chunk changes nothing: 70 networks in chunks of 64 (padded to 128)
    equal the same 70 in chunks of 7 (no padding), and 3 networks padded to 64."""
    x = np.array([0.3, -1.2, 0.5, 2.0])
    key = jax.random.key(4)
    padded = X.ntk_samples(4, 2, x, 70, key)
    monkeypatch.setattr(X, "CHUNK", 7)
    np.testing.assert_allclose(X.ntk_samples(4, 2, x, 70, key), padded, rtol=1e-13)
    assert padded.shape == (70,)
    few = X.ntk_samples(4, 2, x, 3, key)  # chunks of 7: 3 networks padded to 7
    monkeypatch.setattr(X, "CHUNK", 3)
    np.testing.assert_allclose(X.ntk_samples(4, 2, x, 3, key), few, rtol=1e-13)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        X.ntk_samples(4, 0, x, 3, key)


def _fake_comparison(p, progress=False):
    n = np.array(p.widths, dtype=float)
    fit = X.fit_coefficient(n, n * 0.01 + 0.1, n * 0.001)
    return X.Comparison(p, 1.0, 0.1, tuple(1 + 0.1 / n), tuple(0.001 + 0 * n),
                        (p.inits,) * len(n), fit, p.estimator)


def _fake_ratio(p, progress=False):
    return X.DepthWidth(p, (1.1,) * len(p.depths), (0.01,) * len(p.depths), 3.0, 0.1,
                        0.1, 3.0, 0.1, 0.0)


@pytest.fixture
def fake_report(monkeypatch):
    """``report`` with its Monte Carlo pieces replaced by stand-ins (tested above); the
    predictions stay real."""
    monkeypatch.setattr(X, "coefficient_comparison", _fake_comparison)
    monkeypatch.setattr(X, "depth_to_width", _fake_ratio)
    monkeypatch.setattr(X, "null_scan", lambda depths: ())


def test_report_assembles_and_round_trips(fake_report):
    """The ``theory`` target's report holds every comparison, reads back as
    ``Comparison``s through JSON."""
    r = X.report("quick", activations=("tanh",), depths=(1, 2))
    data = json.loads(json.dumps(r.to_json()))["data"]
    comparisons = [X.comparison_from_json(c) for c in data["comparisons"]]
    assert [(c.protocol.statistic, c.protocol.depth) for c in comparisons] == [
        (s, d) for s in X.registry() for d in (1, 2)]
    assert comparisons[0] == _fake_comparison(comparisons[0].protocol)
    assert data["not_covered"] == [] and "Not covered" not in r.markdown
    assert len(data["null"]) == 4 and data["null"][0]["protocol"]["activation"] == "linear"
    assert r.target == "theory" and "| kernel | tanh | 1 |" in r.markdown


def test_relu_dntk_says_not_covered_instead_of_failing(cache_dir, fake_report):
    """ReLU's s'' is a delta, so the dNTK recursions refuse it (``dntk.dntk_moments``): the
    prediction table says "not covered" beside tanh's value, the prediction (which
    ``coefficient_comparison`` computes before sampling) raises a one-line ValueError, and
    a report over ReLU lists the cases it cannot compare (the dNTK, and the four-point
    function of four distinct inputs) with their reasons while comparing the rest."""
    p = X.CoefficientProtocol("dntk", "relu", 2, widths=(4,), inits=10)
    gap = X.coverage_gap(p)
    assert "relu's is a delta" in gap and "\n" not in gap
    assert X.coverage_gap(dataclasses.replace(p, activation="tanh")) is None
    table = X.predictions_markdown(2, ("tanh", "relu"))
    tanh = statistics.dntk(Network(input_dim=4, depth=2, activation="tanh"),
                           p.inputs()).coefficient_1_over_n
    assert f"| dntk | `f1_a f2_b f3_ab f4` | 0 {float(tanh):+.4g}/n | not covered |" in table
    with pytest.raises(ValueError, match="relu's is a delta"):
        X.prediction(p)
    r = X.report("quick", activations=("relu",), depths=(1,))
    data = json.loads(json.dumps(r.to_json()))["data"]
    assert [c["protocol"]["statistic"] for c in data["comparisons"]] == [
        s for s in X.registry() if s not in ("four_point", "dntk")]
    assert [(g["statistic"], g["activation"]) for g in data["not_covered"]] == [
        ("four_point", "relu"), ("dntk", "relu")]
    assert f"Not covered (no comparison): `dntk` for relu: {gap}" in r.markdown
