import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb.correlators.estimate import default_inputs
from widenets_nb.kernels import (
    _quadrature,
    gaussian_expectations,
    infinite_width,
    sign_kernels,
)
from widenets_nb.nets import Network, activation, init_many, outputs_at_init
from widenets_nb.ntk import ntk

X = np.array([[0.2, 0.9, 0.4, 0.7], [0.8, 0.1, 0.5, 0.3]])


@pytest.mark.parametrize("name", ["erf", "linear", "relu"])
def test_closed_forms_equal_independent_integrals(name):
    s = activation(name)
    ds = jax.vmap(jax.grad(lambda z: s(z)))
    k11, k22, k12 = np.array([1.3]), np.array([0.7]), np.array([0.4])
    ss, dd = gaussian_expectations(name, k11, k22, k12)
    if name != "relu":  # smooth: Gauss-Hermite quadrature is exact to ~1e-10
        df = lambda z: ds(z.ravel()).reshape(z.shape)  # noqa: E731
        args = [jnp.asarray(k) for k in (k11, k22, k12)]
        np.testing.assert_allclose(ss, _quadrature(s, *args), rtol=1e-6)
        np.testing.assert_allclose(dd, _quadrature(df, *args), rtol=1e-6)
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


KERNEL_NETS = [
    Network(input_dim=4, depth=3, activation="relu", bias=True, weight_std=1.4, bias_std=0.3,
            first_bias=True, readout_bias=True),
    Network(input_dim=4, depth=2, activation="erf", input_scaling=True, weight_std=0.8),
    Network(input_dim=4, depth=2, activation="tanh", bias=True, bias_std=0.5),
]


@pytest.mark.parametrize("net", KERNEL_NETS, ids=lambda n: n.activation)
def test_cross_kernel_is_the_block_of_the_joint_kernel(net):
    x2 = np.array([[0.5, -0.2, 0.1, 0.9], [1.0, 1.0, 0.0, -0.4], [0.3, 0.3, 0.3, 0.3]])
    joint = infinite_width(net, np.concatenate([X, x2]))
    cross = jax.jit(infinite_width, static_argnums=0)(net, X, x2)
    np.testing.assert_allclose(cross.nngp, joint.nngp[:2, 2:], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cross.ntk, joint.ntk[:2, 2:], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("depth", [1, 3])
def test_linear_kernels_scale_with_weight_std(depth):
    """K = s_w^(2(d+1)) x.x' and Theta = (d+1) K for a linear network."""
    net = Network(input_dim=4, depth=depth, activation="linear", weight_std=1.7)
    k = infinite_width(net, X)
    np.testing.assert_allclose(k.nngp, 1.7 ** (2 * (depth + 1)) * X @ X.T, rtol=1e-13)
    np.testing.assert_allclose(k.ntk, (depth + 1) * k.nngp, rtol=1e-13)


def _written_out_depth_one(name, k1):
    """(E[s s], E[s' s']) on K_1, written out: arc-cosine (ReLU) or arcsine (erf) forms."""
    d = np.diag(k1)
    if name == "relu":
        norms = np.sqrt(np.outer(d, d))
        angle = np.arccos(np.clip(k1 / norms, -1, 1))
        return (norms / (2 * np.pi) * (np.sin(angle) + (np.pi - angle) * np.cos(angle)),
                (np.pi - angle) / (2 * np.pi))
    a = np.outer(1 + 2 * d, 1 + 2 * d)
    return 2 / np.pi * np.arcsin(2 * k1 / np.sqrt(a)), 4 / np.pi / np.sqrt(a - 4 * k1**2)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_depth_one_kernels_equal_the_written_out_closed_forms(name):
    """Depth 1 with every bias: K = s_w^2 E[s s] + s_b^2 on K_1 = s_w^2 c^2 x.x' + s_b^2,
    Theta = s_w^2 K_1 E[s' s'] + K."""
    sw, sb = 1.3, 0.6
    net = Network(input_dim=4, depth=1, activation=name, weight_std=sw, bias_std=sb,
                  first_bias=True, readout_bias=True, input_scaling=name == "erf")
    c2 = 0.25 if name == "erf" else 1.0
    k1 = sw**2 * c2 * X @ X.T + sb**2
    ss, dd = _written_out_depth_one(name, k1)
    nngp = sw**2 * ss + sb**2
    ntk = sw**2 * k1 * dd + nngp
    k = infinite_width(net, X)
    np.testing.assert_allclose(k.nngp, nngp, rtol=1e-7)
    np.testing.assert_allclose(k.ntk, ntk, rtol=1e-7)


@pytest.mark.parametrize("net", KERNEL_NETS[:2], ids=lambda n: n.activation)
def test_mean_empirical_ntk_at_large_width_matches_the_kernel(net):
    """E[Theta_0] at width 2048 (weight/bias scales, every bias) within 4 standard errors of
    Theta_inf plus the O(1/n) bias (~5e-4 relative, far below the 40-init Monte Carlo error)."""
    from widenets_nb.ntk import ntk

    wide = dataclasses.replace(net, width=2048)
    params = init_many(wide, jax.random.key(3), 40)
    samples = np.asarray(jax.jit(jax.vmap(lambda p: ntk(wide, p, X)))(params))
    mean, se = samples.mean(0), samples.std(0, ddof=1) / np.sqrt(len(samples))
    exact = np.asarray(infinite_width(net, X).ntk)
    assert np.all(np.abs(mean - exact) < 4 * se + 1e-3 * np.abs(exact)), (mean, exact, se)


def test_kernel_gradients_in_the_inputs_match_finite_differences():
    net = KERNEL_NETS[0]
    x2 = np.array([[0.5, -0.2, 0.1, 0.9]])

    def entry(x):
        return infinite_width(net, x[None], x2).ntk[0, 0]

    grad = np.asarray(jax.grad(entry)(jnp.asarray(X[0])))
    h = 1e-6
    numeric = [(entry(X[0] + h * e) - entry(X[0] - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


SIGN_NETS = [Network(input_dim=4, depth=1, activation="linear", init="sign"),
             Network(input_dim=3, depth=1, activation="linear", init="sign", weight_std=1.3,
                     first_bias=True, readout_bias=True, bias_std=0.7, input_scaling=True)]


@pytest.mark.parametrize("net", SIGN_NETS)
def test_sign_kernels_of_a_linear_network_are_the_gaussian_ones(net):
    x = default_inputs(3, net.input_dim)
    sign, gauss = sign_kernels(net, x), infinite_width(net, x)
    np.testing.assert_allclose(sign.nngp, gauss.nngp, rtol=1e-12)
    np.testing.assert_allclose(sign.ntk, gauss.ntk, rtol=1e-12)


def test_sign_kernels_match_monte_carlo_and_differ_from_the_gaussian_limit_at_d4():
    """+-1 weights, tanh, the tables' inputs (U[0,1]^4, no input scaling). With one hidden
    layer E[f f'] and E[Theta_0] equal their n -> infinity limits at every width, so 4000
    initializations at width 64 test the limit itself."""
    x = default_inputs(2, 4)
    net = Network(input_dim=4, width=64, depth=1, activation="tanh", init="sign")
    params = init_many(net, jax.random.key(0), 4000)
    theta = np.asarray(jax.vmap(lambda p: ntk(net, p, x))(params))
    f = np.asarray(jax.vmap(lambda p: net.scalar(p, x))(params))
    sign, gauss = sign_kernels(net, x), infinite_width(net, x)
    for samples, exact in ((f[:, :, None] * f[:, None, :], sign.nngp), (theta, sign.ntk)):
        mean, se = samples.mean(0), samples.std(0, ddof=1) / np.sqrt(len(samples))
        assert np.all(np.abs(mean - exact) < 4 * se), (mean, exact, se)
    # the NTK's off-diagonal is resolved far from the Gaussian limit
    assert abs(mean[0, 1] - gauss.ntk[0, 1]) > 10 * se[0, 1], (mean, gauss.ntk, se)
    # the relative differences the module docstring quotes
    rel = lambda a, b: np.asarray(a / b - 1)  # noqa: E731
    np.testing.assert_allclose(rel(sign.ntk, gauss.ntk)[0, 1], -0.088, atol=0.002)
    np.testing.assert_allclose(np.diag(rel(sign.nngp, gauss.nngp)), [0.040, 0.095],
                               atol=0.002)
    relu = dataclasses.replace(net, activation="relu")
    np.testing.assert_allclose(rel(sign_kernels(relu, x).ntk, infinite_width(relu, x).ntk),
                               [[0, -0.057], [-0.057, 0]], atol=0.002)
    x16 = default_inputs(2, 16)
    wide = dataclasses.replace(net, input_dim=16)
    np.testing.assert_allclose(rel(sign_kernels(wide, x16).ntk, infinite_width(wide, x16).ntk)
                               [0, 1], -0.031, atol=0.002)


def test_sign_kernels_reject_deep_or_wide_inputs():
    with pytest.raises(ValueError, match="depth 1 and at most 16 signs"):
        sign_kernels(Network(input_dim=4, depth=2, activation="tanh"), X)
    with pytest.raises(ValueError, match="got depth 1, 17 signs"):
        sign_kernels(Network(input_dim=17, depth=1, activation="tanh"), np.ones((1, 17)))
