"""The empirical NTK against explicit Jacobians and the infinite-width kernel."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb import Network, infinite_width, init_many
from widenets_nb.ntk import ntk, ntk_entry, ntk_max_eigenvalue, ntk_vp


@functools.partial(jax.jit, static_argnums=0)
def _dense_jacobian(net, params, x):
    """(N, k, P) from forward-mode autodiff on the flattened parameter vector."""
    flat, unravel = ravel_pytree(params)
    return jax.jacfwd(lambda v: net.apply(unravel(v), x))(flat)


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("memory_bytes", [2**28, 1])
def test_ntk_equals_explicit_jacobian_product(outputs, memory_bytes):
    net = Network(input_dim=5, width=(6, 7), depth=2, activation="tanh", bias=True,
                  outputs=outputs)
    params = net.sample(jax.random.PRNGKey(0))
    x1 = jax.random.normal(jax.random.PRNGKey(1), (4, 5))
    x2 = jax.random.normal(jax.random.PRNGKey(2), (3, 5))
    j1, j2 = _dense_jacobian(net, params, x1), _dense_jacobian(net, params, x2)
    reference = jnp.einsum("iap,jbp->ijab", j1, j2)
    kernel = jax.jit(ntk, static_argnames=("net", "memory_bytes"))
    theta = kernel(net, params, x1, x2, memory_bytes=memory_bytes)
    symmetric = kernel(net, params, x1, memory_bytes=memory_bytes)
    self_reference = jnp.einsum("iap,jbp->ijab", j1, j1)
    if outputs == 1:
        reference, self_reference = reference[..., 0, 0], self_reference[..., 0, 0]
    np.testing.assert_allclose(theta, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(symmetric, self_reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ntk_entry(net, params, x1[2], x2[1]), reference[2, 1],
                               rtol=1e-12, atol=1e-12)


def test_ntk_vector_product_and_top_eigenvalue():
    net = Network(input_dim=4, width=16, depth=2, activation="relu", outputs=2)
    params = net.sample(jax.random.PRNGKey(3))
    x = jax.random.normal(jax.random.PRNGKey(4), (6, 4))
    theta = ntk(net, params, x)
    v = jax.random.normal(jax.random.PRNGKey(5), (6, 2))
    np.testing.assert_allclose(ntk_vp(net, params, x, v), jnp.einsum("ijab,jb->ia", theta, v),
                               rtol=1e-10, atol=1e-12)
    net1 = Network(input_dim=4, width=16, depth=2, activation="relu")
    p1 = net1.sample(jax.random.PRNGKey(3))
    top = np.linalg.eigvalsh(np.asarray(ntk(net1, p1, x)))[-1]
    assert ntk_max_eigenvalue(net1, p1, x, iterations=300) == pytest.approx(top, rel=1e-6)


def test_mean_ntk_at_large_width_matches_relu_arccosine_kernel():
    """E[Theta_0] at n = 4096 vs Theta_inf within 4 standard errors.

    With one hidden layer Theta_0 is an average of n iid terms, so its mean is Theta_inf
    exactly and only Monte Carlo error remains."""
    net = Network(input_dim=4, width=4096, depth=1, activation="relu")
    x = np.array([[1.0, 0.5, -0.3, 0.2], [0.1, -1.0, 0.4, 0.8], [0.6, 0.6, 0.6, -0.2]])
    params = init_many(net, jax.random.PRNGKey(7), 64)
    samples = np.asarray(jax.jit(jax.vmap(lambda p: ntk(net, p, x)))(params))
    mean = samples.mean(0)
    stderr = samples.std(0, ddof=1) / np.sqrt(len(samples))
    exact = infinite_width(net, x).ntk
    assert np.all(stderr > 0)
    assert np.all(np.abs(mean - exact) < 4 * stderr)
    # the mean really resolves the kernel: errors well below the kernel's own size
    assert np.all(np.abs(mean - exact) < 0.01 * np.abs(exact).max())


def test_bad_inputs_raise_readable_errors():
    net = Network(input_dim=3, width=4)
    params = net.sample(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="shape"):
        ntk(net, params, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="one input"):
        ntk_entry(net, params, np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="expected"):
        ntk_vp(net, params, np.zeros((2, 3)), np.zeros(3))
