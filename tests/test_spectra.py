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


def test_certified_top_eigenvalues_match_dense_eigh_within_their_bounds():
    """A tiny net (P = 204): every certified value lies within its bound of an eigenvalue
    of the dense H, the bound is the residual of the returned vector, and a resolved value
    is within the Davis-Kahan bound r^2 / gap of the eigenvalue it approximates."""
    net, params, x, y = problem("tanh", outputs=2, width=12, points=6)
    hessian, _ = dense(net, params, x, y)
    exact = np.linalg.eigvalsh(hessian)[::-1]
    size = hessian.shape[0]
    assert size == 204
    top, vectors = solvers.top_eigenpairs(net, params, x, y, 8, krylov=30, seed=3, tol=1e-6)
    assert top.products > 30 and top.krylov == 30
    residual = np.linalg.norm(hessian @ vectors - vectors * top.values, axis=0)
    np.testing.assert_allclose(top.bounds, residual, rtol=1e-6, atol=1e-12)
    assert np.all(np.abs(top.values - exact[:8]) <= top.bounds + 1e-12)  # eigh rounding
    true_gaps = solvers.neighbour_gaps(exact)[:8]
    assert np.all(top.resolved)
    rounding = 1e-12  # eigh's own error, ~ eps |H|
    assert np.all(np.abs(top.values - exact[:8])
                  <= top.bounds**2 / (true_gaps - top.bounds) + rounding)
    np.testing.assert_allclose(top.gaps, np.minimum(
        np.abs(np.diff(np.r_[np.inf, top.values])),
        np.abs(np.diff(np.r_[top.values, exact[8]]))), rtol=1e-6)
    typed = solvers.top_eigenvalues(net, params, x, y, 8, krylov=30, seed=jax.random.key(3),
                                    tol=1e-6)
    np.testing.assert_array_equal(typed.values, top.values)  # a key or its seed: the same


def test_a_near_degenerate_pair_is_reported_unresolved():
    """Eigenvalues 5, 3 + 1e-7, 3, 1, ... in a random basis, each product carrying a
    rounding error of relative size 1e-7 (as in float32): the pair's residual bounds
    (~1e-6) exceed 0.1 x their gap (1e-7), so both are unresolved; 5 and 1 are resolved and
    every value lies within its bound (plus the rounding) of the true eigenvalue."""
    rng, noise = np.random.default_rng(0), np.random.default_rng(1)
    size = 300
    spectrum = np.r_[5.0, 3.0 + 1e-7, 3.0, 1.0, rng.uniform(-0.5, 0.5, size - 4)]
    basis = np.linalg.qr(rng.normal(size=(size, size)))[0]
    matrix = (basis * spectrum) @ basis.T

    def rounded(v):
        return matrix @ v + 1e-7 * np.linalg.norm(v) * noise.normal(size=size) / np.sqrt(size)

    top, _ = solvers.certified_top(rounded, size, 4, 20, rng.normal(size=size), tol=1e-5)
    np.testing.assert_array_equal(top.resolved, [True, False, False, True])
    assert np.all(np.abs(top.values - spectrum[[0, 1, 2, 3]]) <= top.bounds + 1e-6)
    assert top.gaps[1] < 1e-6 and np.all(top.bounds[1:3] > 0.1 * top.gaps[1:3])


def test_theta_overlaps_against_the_dense_projector_on_j_rows():
    """|P_J v|^2 with P_J = J^T (J J^T)^-1 J from the dense Jacobian; A's top eigenvectors
    lie in J's row space (overlap 1, matched to their own index)."""
    net, params, x, y = problem("tanh", outputs=2, width=6, points=4)
    hessian, jac = dense(net, params, x, y)
    projector = jac.T @ np.linalg.solve(jac @ jac.T, jac)
    rng = np.random.default_rng(1)
    v = rng.normal(size=(hessian.shape[0], 5))
    v /= np.linalg.norm(v, axis=0)
    overlaps, _ = solvers.theta_overlaps(net, params, x, v)
    np.testing.assert_allclose(overlaps, np.sum((projector @ v) ** 2, axis=0), rtol=1e-8)
    a_top = np.linalg.eigh(jac.T @ jac)[1][:, ::-1][:, :8]
    overlaps, matched = solvers.theta_overlaps(net, params, x, a_top)
    np.testing.assert_allclose(overlaps, 1.0, rtol=1e-8)
    np.testing.assert_array_equal(matched, np.arange(8))
    h_vectors = np.linalg.eigh(hessian)[1][:, ::-1][:, :4]
    overlaps, _ = solvers.theta_overlaps(net, params, x, h_vectors)
    np.testing.assert_allclose(overlaps, np.sum((projector @ h_vectors) ** 2, axis=0),
                               rtol=1e-8)


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
