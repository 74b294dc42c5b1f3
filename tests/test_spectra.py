"""Hessian / NTK spectra against dense autodiff references on tiny networks (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb.nets import Network
from widenets_nb.spectra import solvers


def problem(activation="tanh", outputs=2, depth=2, width=5, points=4, seed=0, bias=False):
    net = Network(input_dim=3, width=width, depth=depth, activation=activation,
                  outputs=outputs, bias=bias)
    keys = jax.random.split(jax.random.key(seed), 3)
    params = net.sample(keys[0])
    x = jax.random.normal(keys[1], (points, 3))
    y = jax.random.normal(keys[2], (points, outputs))
    return net, params, x, y


def dense(net, params, x, y):
    """H from jax.hessian, J from jax.jacfwd, B = H - J^T J, independent of solvers.operator."""
    flat, unravel = ravel_pytree(params)
    hessian = jax.hessian(lambda p: 0.5 * jnp.sum((net.apply(unravel(p), x) - y) ** 2))(flat)
    jac = jax.jacfwd(lambda p: net.apply(unravel(p), x).reshape(-1))(flat)  # rows (a, A)
    return np.asarray(hessian), np.asarray(jac)


def as_matrix(matvec, size):
    return np.asarray(jax.vmap(matvec)(jnp.eye(size))).T


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_operators_match_dense_hessian(activation):
    net, params, x, y = problem(activation)
    hessian, jac = dense(net, params, x, y)
    size = hessian.shape[0]
    ops = {w: as_matrix(solvers.operator(net, params, x, y, w), size) for w in "HAB"}
    np.testing.assert_allclose(ops["H"], hessian, atol=1e-12)
    np.testing.assert_allclose(ops["A"], jac.T @ jac, atol=1e-12)
    np.testing.assert_allclose(ops["B"], hessian - jac.T @ jac, atol=1e-12)


def test_lanczos_top_eigenvalues_equal_eigvalsh():
    net, params, x, y = problem("tanh", outputs=2)
    hessian, _ = dense(net, params, x, y)
    exact = np.linalg.eigvalsh(hessian)[::-1]
    size = hessian.shape[0]
    full = solvers.top_eigenvalues(net, params, x, y, 10, krylov=size)
    np.testing.assert_allclose(full.values, exact[:10], atol=1e-10)
    partial = solvers.top_eigenvalues(net, params, x, y, 4, krylov=30, seed=3)
    assert partial.krylov == 30 < size
    assert np.all(partial.bounds < 1e-6)
    np.testing.assert_allclose(partial.values, exact[:4], atol=1e-9)
    typed = solvers.top_eigenvalues(net, params, x, y, 4, krylov=30, seed=jax.random.key(3))
    np.testing.assert_array_equal(typed.values, partial.values)  # a key or its seed: the same


@pytest.mark.parametrize("outputs", [1, 3])
def test_nonzero_eigenvalues_of_a_equal_those_of_theta(outputs):
    """Eq. (79) with M = identity: spec(J^T J) \\ {0} = spec(Theta), Theta from ntk.ntk."""
    net, params, x, y = problem("tanh", outputs=outputs, points=5)
    _, jac = dense(net, params, x, y)
    a = jac.T @ jac
    theta = solvers.ntk_eigenvalues(net, params, x)
    assert theta.shape == (5 * outputs,)
    nonzero = np.linalg.eigvalsh(a)[::-1][: theta.size]
    np.testing.assert_allclose(nonzero, theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(solvers.ntk_matrix(net, params, x), jac @ jac.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(a)[: a.shape[0] - theta.size], 0, atol=1e-10)


def test_hutchinson_unbiased_within_standard_error():
    """Tr Op^m (m = 1..4) for H, A, B against dense traces; the standard errors against the
    exact Rademacher variance 2 (|M|_F^2 - sum_i M_ii^2) of v^T M v."""
    net, params, x, y = problem("tanh", outputs=2, width=4, points=3)
    hessian, jac = dense(net, params, x, y)
    mats = {"H": hessian, "A": jac.T @ jac, "B": hessian - jac.T @ jac}
    probes = 4000
    est = solvers.hutchinson_moments(net, params, x, y, probes=probes, chunk=500, seed=1)
    assert est.probes == probes
    for name in ("H", "A", "B"):
        for i, m in enumerate(solvers.MOMENTS):
            power = np.linalg.matrix_power(mats[name], m)
            exact = np.trace(power)
            z = (est.trace[name][i] - exact) / est.stderr[name][i]
            assert abs(z) < 4.5, (name, m, z)
            var = 2 * (np.sum(power**2) - np.sum(np.diag(power) ** 2))
            np.testing.assert_allclose(est.stderr[name][i] ** 2 * probes, var, rtol=0.25)
        np.testing.assert_allclose(est.trace["H-A"], est.trace["H"] - est.trace["A"], rtol=1e-10)


@pytest.mark.parametrize("activation,bias", [("linear", False), ("relu", False), ("relu", True)])
def test_trace_of_b_vanishes_for_linear_and_relu(activation, bias):
    """Footnote 13: f is linear in every single parameter, so d^2 f / d theta_mu^2 = 0."""
    net, params, x, y = problem(activation, outputs=2, depth=3, bias=bias)
    hessian, jac = dense(net, params, x, y)
    b = hessian - jac.T @ jac
    assert np.max(np.abs(b)) > 1e-2  # B itself is not zero
    assert abs(np.trace(b)) < 1e-12
    est = solvers.hutchinson_moments(net, params, x, y, probes=200, which=("B",))
    assert abs(est.trace["B"][0]) < 4.5 * est.stderr["B"][0]


def test_trace_of_b_is_nonzero_for_tanh():
    net, params, x, y = problem("tanh", outputs=2, depth=2)
    hessian, jac = dense(net, params, x, y)
    assert abs(np.trace(hessian - jac.T @ jac)) > 1e-2


def test_lanczos_quadrature_is_exact_for_low_powers():
    """With a full Krylov space, sum_j w_j theta_j^m = v^T H^m v / |v|^2 for every probe."""
    net, params, x, y = problem("tanh", outputs=1, width=4)
    hessian, _ = dense(net, params, x, y)
    size = hessian.shape[0]
    grid = np.linspace(-5, 5, 201)
    d = solvers.spectral_density(net, params, x, y, grid, krylov=size, probes=3, seed=2)
    np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, rtol=1e-10)
    keys = jax.random.split(jax.random.key(2), 3)
    for key, nodes, weights in zip(keys, d.nodes, d.weights, strict=True):
        v = np.asarray(jax.random.rademacher(key, (size,), jnp.float64))
        for m in (1, 2, 3):
            quad = np.sum(weights * nodes**m)
            exact = v @ np.linalg.matrix_power(hessian, m) @ v / (v @ v)
            np.testing.assert_allclose(quad, exact, rtol=1e-8, atol=1e-10)
    inside = (np.linalg.eigvalsh(hessian).min() > -5) and (np.linalg.eigvalsh(hessian).max() < 5)
    if inside:
        np.testing.assert_allclose(d.density.sum() * (grid[1] - grid[0]), 1.0, atol=2e-2)


def test_exact_moments_and_class_blocks():
    np.testing.assert_allclose(solvers.exact_moments([2.0, -1.0]), [1.0, 5.0, 7.0, 17.0])
    net, params, x, _ = problem("tanh", outputs=3, points=4)
    _, jac = dense(net, params, x, np.zeros((4, 3)))
    blocks = solvers.class_blocks(net, params, x)
    j = jac.reshape(4, 3, -1)
    np.testing.assert_allclose(blocks, np.einsum("aAp,aBp->AB", j, j), atol=1e-12)


def test_bad_input_is_a_clear_value_error():
    net, params, x, y = problem("tanh", outputs=2)
    with pytest.raises(ValueError, match="targets of shape"):
        solvers.top_eigenvalues(net, params, x, y[:, :1], 3)
    with pytest.raises(ValueError, match="which must be one of"):
        solvers.operator(net, params, x, y, "C")
    with pytest.raises(ValueError, match="krylov"):
        solvers.top_eigenvalues(net, params, x, y, 5, krylov=3)
    with pytest.raises(ValueError, match="inputs of shape"):
        solvers.hutchinson_moments(net, params, x[:, :2], y, probes=10)
