import jax
import numpy as np
import pytest

from widenets_nb.kernels import _quadrature, gaussian_expectations, infinite_width
from widenets_nb.nets import Network, activation, outputs_at_init

X = np.array([[0.2, 0.9, 0.4, 0.7], [0.8, 0.1, 0.5, 0.3]])


@pytest.mark.parametrize("name", ["erf", "linear", "relu"])
def test_closed_forms_equal_independent_integrals(name):
    s = activation(name)
    ds = jax.vmap(jax.grad(lambda z: s(z)))
    k11, k22, k12 = np.array([1.3]), np.array([0.7]), np.array([0.4])
    ss, dd = gaussian_expectations(name, k11, k22, k12)
    if name != "relu":  # smooth: Gauss-Hermite quadrature is exact to ~1e-10
        f = lambda z: np.asarray(s(z))  # noqa: E731
        df = lambda z: np.asarray(ds(z.ravel())).reshape(z.shape)  # noqa: E731
        np.testing.assert_allclose(ss, _quadrature(f, k11, k22, k12), rtol=1e-6)
        np.testing.assert_allclose(dd, _quadrature(df, k11, k22, k12), rtol=1e-6)
        return
    # ReLU's kink spoils quadrature: compare with 4M Monte Carlo samples instead.
    cov = np.array([[k11[0], k12[0]], [k12[0], k22[0]]])
    u, v = np.random.default_rng(0).multivariate_normal([0, 0], cov, size=4_000_000).T
    for value, samples in ((ss, np.maximum(u, 0) * np.maximum(v, 0)), (dd, (u > 0) * (v > 0))):
        stderr = samples.std() / np.sqrt(samples.size)
        assert abs(value[0] - samples.mean()) < 4 * stderr


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_linear_ntk_is_depth_plus_one_times_dot(depth):
    net = Network(input_dim=4, depth=depth, activation="linear")
    k = infinite_width(net, X)
    np.testing.assert_allclose(k.nngp, X @ X.T)
    np.testing.assert_allclose(k.ntk, (depth + 1) * X @ X.T)


@pytest.mark.parametrize("name,bias", [("tanh", False), ("erf", True), ("gelu", False)])
def test_nngp_matches_monte_carlo_at_large_width(name, bias):
    # E[f(x) f(x')] at width 256 differs from the NNGP by O(1/n) ~ 4e-3 (relative), below
    # the ~2% Monte Carlo error of 2000 inits, so they must agree within 4 standard errors.
    net = Network(input_dim=4, width=256, depth=2, activation=name, bias=bias)
    f = np.asarray(outputs_at_init(net, X, 2000, jax.random.key(5)))
    prod = f[:, :, None] * f[:, None, :]
    mean, se = prod.mean(0), prod.std(0, ddof=1) / np.sqrt(len(f))
    expected = infinite_width(net, X).nngp
    assert np.all(np.abs(mean - expected) < 4 * se), (mean, expected, se)
