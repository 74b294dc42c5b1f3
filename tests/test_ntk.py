"""The empirical NTK against explicit Jacobians and the infinite-width kernel."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb import MLP, Network, infinite_width, init_many
from widenets_nb.ntk import (
    MEMORY_BYTES,
    METHODS,
    empirical_ntk,
    feature_bytes,
    ntk,
    ntk_entry,
    ntk_max_eigenvalue,
    ntk_vp,
)


@functools.partial(jax.jit, static_argnums=0)
def _dense_jacobian(net, params, x):
    """(N, k, P) from forward-mode autodiff on the flattened parameter vector."""
    flat, unravel = ravel_pytree(params)
    return jax.jacfwd(lambda v: net.apply(unravel(v), x))(flat)


NETWORKS = [
    Network(input_dim=5, width=(6, 7), depth=2, activation="tanh", bias=True),
    Network(input_dim=5, width=(6, 7), depth=2, activation="tanh", bias=True, outputs=3),
    Network(input_dim=5, width=8, depth=1, activation="relu", input_scaling=True),
    Network(input_dim=5, width=(4, 6, 5), depth=3, activation="erf", bias=True,
            first_bias=True, readout_bias=True, weight_std=1.3, bias_std=0.4, outputs=2),
    Network(input_dim=5, width=6, depth=3, activation="gelu", init="sign", weight_std=0.7,
            readout_bias=True, input_scaling=True),
    *(Network(input_dim=5, width=(5, 6), depth=2, activation=a, bias=True, first_bias=True)
      for a in ("linear", "sin", "softplus")),
]


def _tight(net, count):
    """memory_bytes that leaves room for the column features and one row at a time."""
    return 2 * count * feature_bytes(net) + 3 * feature_bytes(net) + 3 * count * net.outputs**2 * 8


@pytest.mark.parametrize("net", NETWORKS, ids=lambda n: f"{n.activation}-d{n.depth}-k{n.outputs}")
@pytest.mark.parametrize("tight", [False, True])
def test_ntk_equals_explicit_jacobian_product(net, tight):
    params = net.sample(jax.random.key(0))
    x1 = jax.random.normal(jax.random.key(1), (4, 5))
    x2 = jax.random.normal(jax.random.key(2), (3, 5))
    j1, j2 = _dense_jacobian(net, params, x1), _dense_jacobian(net, params, x2)
    reference = jnp.einsum("iap,jbp->ijab", j1, j2)
    self_reference = jnp.einsum("iap,jbp->ijab", j1, j1)
    memory = _tight(net, 4) if tight else MEMORY_BYTES
    kernel = jax.jit(ntk, static_argnames=("net", "memory_bytes", "trace_outputs"))
    theta = kernel(net, params, x1, x2, memory_bytes=memory)
    symmetric = kernel(net, params, x1, memory_bytes=memory)
    traced = kernel(net, params, x1, x2, memory_bytes=memory, trace_outputs=True)
    np.testing.assert_allclose(traced, jnp.trace(reference, axis1=2, axis2=3) / net.outputs,
                               rtol=1e-12, atol=1e-12)
    entry = ntk_entry(net, params, x1[2], x2[1])
    if net.outputs == 1:
        reference, self_reference = reference[..., 0, 0], self_reference[..., 0, 0]
    np.testing.assert_allclose(theta, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(symmetric, self_reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(entry, reference[2, 1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_empirical_ntk_of_any_model_matches_the_structured_ntk(method):
    net = NETWORKS[3]
    params = net.sample(jax.random.key(3))
    x1 = jax.random.normal(jax.random.key(4), (5, 5))
    x2 = jax.random.normal(jax.random.key(5), (3, 5))
    flax_apply = lambda p, x: MLP(net).apply({"params": p}, x)  # noqa: E731
    structured = ntk(net, params, x1, x2)
    for memory in (MEMORY_BYTES, 6 * net.outputs * net.num_params * 8 + 1):
        general = jax.jit(empirical_ntk, static_argnums=0,
                          static_argnames=("method", "memory_bytes"))
        np.testing.assert_allclose(general(flax_apply, params, x1, x2, method=method,
                                           memory_bytes=memory), structured,
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(general(net.apply, params, x1, method=method,
                                           memory_bytes=memory), ntk(net, params, x1),
                                   rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="unknown method"):
        empirical_ntk(net.apply, params, x1, method="nngp")


def test_memory_bytes_bounds_what_the_kernel_allocates():
    """XLA's buffer assignment of the compiled kernel: temporaries within memory_bytes."""
    net = Network(input_dim=16, width=512, depth=3, activation="tanh")
    params = net.sample(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (64, 16))
    for memory in (2**22, 2**23, 2**24):
        compiled = jax.jit(lambda p, x, m=memory: ntk(net, p, x, memory_bytes=m)).lower(
            params, x).compile()
        assert compiled.memory_analysis().temp_size_in_bytes <= memory
    with pytest.raises(ValueError, match="memory_bytes=1000 is too small"):
        ntk(net, params, x, memory_bytes=1000)


def test_ntk_vector_product_and_top_eigenvalue():
    net = Network(input_dim=4, width=16, depth=2, activation="relu", outputs=2)
    params = net.sample(jax.random.key(3))
    x = jax.random.normal(jax.random.key(4), (6, 4))
    theta = ntk(net, params, x)
    v = jax.random.normal(jax.random.key(5), (6, 2))
    np.testing.assert_allclose(ntk_vp(net, params, x, v), jnp.einsum("ijab,jb->ia", theta, v),
                               rtol=1e-10, atol=1e-12)
    net1 = Network(input_dim=4, width=16, depth=2, activation="relu")
    p1 = net1.sample(jax.random.key(3))
    top = np.linalg.eigvalsh(np.asarray(ntk(net1, p1, x)))[-1]
    assert ntk_max_eigenvalue(net1, p1, x, iterations=300) == pytest.approx(top, rel=1e-6)


def test_mean_ntk_at_large_width_matches_relu_arccosine_kernel():
    """E[Theta_0] at n = 4096 vs Theta_inf within 4 standard errors.

    With one hidden layer Theta_0 is an average of n iid terms, so its mean is Theta_inf
    exactly and only Monte Carlo error remains."""
    net = Network(input_dim=4, width=4096, depth=1, activation="relu")
    x = np.array([[1.0, 0.5, -0.3, 0.2], [0.1, -1.0, 0.4, 0.8], [0.6, 0.6, 0.6, -0.2]])
    params = init_many(net, jax.random.key(7), 64)
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
    params = net.sample(jax.random.key(0))
    with pytest.raises(ValueError, match="shape"):
        ntk(net, params, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="one input"):
        ntk_entry(net, params, np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="expected"):
        ntk_vp(net, params, np.zeros((2, 3)), np.zeros(3))
