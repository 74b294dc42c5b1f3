"""Figs. 9-10 building blocks on tiny MNIST networks, against independent computations."""

import jax
import numpy as np
import pytest

from widenets_nb.spectra import experiments as E
from widenets_nb.spectra import figures as plots_spectra
from widenets_nb.spectra import solvers as spectra


@pytest.fixture(scope="module")
def small():
    s = E.setup(width=64, depth=2, activation="relu", classes=2, per_class=3)
    return s, s.net.sample(jax.random.key(0))


def test_setup_matches_the_paper_protocol(small):
    s, _ = small
    assert s.net.input_scaling and s.net.outputs == 1 and s.x.shape == (6, 784)
    three = E.setup(width=8, classes=3, per_class=2)
    assert three.net.outputs == 3 and three.y.shape == (6, 3)
    np.testing.assert_allclose(three.y.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="classes must be 2 or 3"):
        E.setup(width=8, classes=4)


def test_eigenvalue_gaps_against_a_long_lanczos_run(small):
    s, params = small
    gaps = E.eigenvalue_gaps(s, params, count=3, krylov=40)
    reference = spectra.top_eigenvalues(s.net, params, s.x, s.y, 3, krylov=120, seed=5)
    # each Ritz value lies within its residual bound of an eigenvalue (Kahan-Parlett)
    assert np.all(np.abs(gaps["hessian"] - reference.values) <= gaps["bounds"] + 1e-12)
    assert np.all(gaps["bounds"] < 1e-3)
    np.testing.assert_allclose(gaps["theta"], spectra.ntk_eigenvalues(s.net, params, s.x)[:3])
    assert gaps["top"] == pytest.approx(abs(reference.values[0] - gaps["theta"][0]))
    assert gaps["mean"] == pytest.approx(np.mean(np.abs(reference.values - gaps["theta"])))


def test_trained_equals_explicit_gradient_descent(small):
    """'After training' parameters equal a hand-written GD loop on the summed loss."""
    s, params = small
    lr, steps = E.learning_rate(s, params), 30
    after = E.trained(s, params, steps, lr)
    grad = jax.jit(jax.grad(lambda p: spectra.loss(s.net, p, s.x, s.y)))
    reference = params
    for _ in range(steps):
        reference = jax.tree.map(lambda p, g: p - lr * g, reference, grad(reference))
    for name in params:
        np.testing.assert_allclose(after[name], reference[name], rtol=1e-9, atol=1e-12)
    assert spectra.loss(s.net, after, s.x, s.y) < 0.5 * spectra.loss(s.net, params, s.x, s.y)


def test_moment_gaps_at_init_and_after_training(small):
    """m = 1 vanishes for ReLU (Tr B = 0); Tr A^m matches Tr Theta^m; B shrinks with training."""
    s, params = small
    init = E.moment_gaps(s, params, probes=300)
    z_a = (init["trace_a"] - init["trace_theta"]) / init["trace_a_se"]
    assert np.all(np.abs(z_a) < 4.5), z_a
    assert abs(init["relative"][0]) < 4.5 * init["relative_se"][0]
    assert init["relative"][1] > 10 * init["relative_se"][1]  # m = 2: + Tr B^2 > 0
    np.testing.assert_allclose(init["relative"][1] * init["trace_theta"][1], init["trace_b2"],
                               rtol=5 * init["trace_b2_se"] / init["trace_b2"])
    late = E.moment_gaps(s, E.trained(s, params, 2000, E.learning_rate(s, params)), probes=300)
    assert late["trace_b2"] < 0.05 * init["trace_b2"]


def test_rms_b_is_the_root_mean_square_eigenvalue():
    s = E.setup(width=2, depth=1, activation="relu", per_class=2)
    params = s.net.sample(jax.random.key(1))
    size = spectra.num_params(params)
    b = np.asarray(jax.vmap(spectra.operator(s.net, params, s.x, s.y, "B"))(np.eye(size)))
    exact = np.sqrt(np.mean(np.linalg.eigvalsh(b) ** 2))
    value, se = E.rms_b(s, params, probes=400)
    assert abs(value - exact) < 4.5 * se


def test_figure_builders():
    series = [{"name": "a", "widths": [64, 128], "values": [1.0, 0.5], "stderr": [0.1, 0.05],
               "slope": -1.0, "intercept": np.log(64.0), "slope_ci": (-1.1, -0.9)}]
    fig = plots_spectra.loglog_fits(series, "t", "gap")
    np.testing.assert_allclose(fig.data[1].y, [1.0, 0.5])
    assert len(plots_spectra.top_eigenvalues([3, 2], [3.1, 2.1], "t").data) == 2
    bars = plots_spectra.moment_gaps([{"name": "init", "relative": [0, -0.5, 0.1, 0.1],
                                       "relative_se": [0.1] * 4}], "t")
    np.testing.assert_allclose(bars.data[0].y, [0, 0.5, 0.1, 0.1])
    dens = plots_spectra.density([[0, 1]], [[0.5, 0.5]], [[1.0]], ["init"], "t")
    assert len(dens.data) == 2
