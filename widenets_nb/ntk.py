"""The empirical neural tangent kernel (Sec. 3, eq. 7).

    Theta_AB(x, x') = sum_mu d_mu f_A(x) d_mu f_B(x')

for a network's parameters mu, outputs A, B. ``ntk`` builds the kernel of two input batches
from Jacobian blocks J(X1) J(X2)^T, chunked over inputs so no Jacobian larger than
``memory_bytes`` is held; ``ntk_entry`` gives one component from two gradients;
``ntk_vp`` multiplies Theta by a vector without forming it (one VJP and one JVP).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .nets import Network, Params

MEMORY_BYTES = 2**28


def _as_inputs(net: Network, x: ArrayLike, name: str) -> jax.Array:
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(
            f"{name} has shape {x.shape}; pass a batch of shape (N, {net.input_dim})."
        )
    return x


def _jacobian(net: Network, params: Params, x: jax.Array) -> jax.Array:
    """J of shape (N, k, P): d f_A(x_i) / d theta_mu, leaves concatenated in key order."""
    jac = jax.jacrev(lambda p: net.apply(p, x))(params)
    leaves = [jac[name].reshape(x.shape[0], net.outputs, -1) for name in sorted(jac)]
    return jnp.concatenate(leaves, axis=-1)


def _block(net: Network, params: Params, xa: jax.Array, xb: jax.Array | None) -> jax.Array:
    ja = _jacobian(net, params, xa)
    jb = ja if xb is None else _jacobian(net, params, xb)
    return jnp.einsum("iap,jbp->ijab", ja, jb)


def chunk_size(net: Network, memory_bytes: int = MEMORY_BYTES) -> int:
    """How many inputs' Jacobians (k x P numbers each) fit in ``memory_bytes``."""
    per_input = net.outputs * net.num_params * jnp.dtype(jnp.result_type(float)).itemsize
    return max(1, memory_bytes // per_input)


def ntk(
    net: Network,
    params: Params,
    x1: ArrayLike,
    x2: ArrayLike | None = None,
    memory_bytes: int = MEMORY_BYTES,
) -> jax.Array:
    """Eq. (7): the empirical NTK Theta(X1, X2) (X2 = X1 when omitted).

    Args:
      net: the network.
      params: one initialization (``net.sample(key)`` layout).
      x1: (N1, D) inputs.
      x2: (N2, D) inputs, or None for the symmetric kernel of ``x1``.
      memory_bytes: the largest Jacobian block held at once; inputs are chunked to fit.

    Returns:
      (N1, N2) when ``net.outputs == 1``, else (N1, N2, k, k) with Theta_AB in the last axes.
    """
    x1 = _as_inputs(net, x1, "x1")
    xs2 = None if x2 is None else _as_inputs(net, x2, "x2")
    size = chunk_size(net, memory_bytes)
    if x1.shape[0] + (0 if xs2 is None else xs2.shape[0]) <= size:
        theta = _block(net, params, x1, xs2)
    else:
        size = max(1, size // 2)
        other = x1 if xs2 is None else xs2
        split1 = [x1[i : i + size] for i in range(0, x1.shape[0], size)]
        split2 = [other[j : j + size] for j in range(0, other.shape[0], size)]
        theta = jnp.concatenate(
            [jnp.concatenate([_block(net, params, a, b) for b in split2], axis=1)
             for a in split1], axis=0)
    return theta[..., 0, 0] if net.outputs == 1 else theta


def ntk_entry(net: Network, params: Params, x: ArrayLike, x2: ArrayLike) -> jax.Array:
    """One component Theta(x, x') from two gradients: a scalar, or (k, k) for k outputs."""
    x, x2 = (jnp.asarray(a, jnp.result_type(float)) for a in (x, x2))
    if x.shape != (net.input_dim,) or x2.shape != (net.input_dim,):
        raise ValueError(f"x and x2 must each be one input of shape ({net.input_dim},); "
                         f"got {x.shape} and {x2.shape}.")
    pair = jnp.stack([x, x2])
    jac = _jacobian(net, params, pair)
    theta = jac[0] @ jac[1].T
    return theta[0, 0] if net.outputs == 1 else theta


def ntk_vp(net: Network, params: Params, x: ArrayLike, v: ArrayLike) -> jax.Array:
    """(Theta v)_{iA} = sum_{jB} Theta_AB(x_i, x_j) v_{jB} without forming Theta.

    ``v`` has shape (N,) for one output or (N, k); the result has the same shape.
    """
    x = _as_inputs(net, x, "x")
    v = jnp.asarray(v, dtype=jnp.result_type(float))
    if v.shape not in ((x.shape[0], net.outputs), (x.shape[0],) * (net.outputs == 1)):
        raise ValueError(f"v has shape {v.shape}; expected ({x.shape[0]}, {net.outputs}).")
    flat = v.reshape(x.shape[0], net.outputs)
    out, pullback = jax.vjp(lambda p: net.apply(p, x), params)
    (tangent,) = pullback(flat.astype(out.dtype))
    return jax.jvp(lambda p: net.apply(p, x), (params,), (tangent,))[1].reshape(v.shape)


def ntk_max_eigenvalue(
    net: Network, params: Params, x: ArrayLike, iterations: int = 100, seed: int = 0
) -> float:
    """lambda_max(Theta) on the inputs ``x`` (one output) by power iteration with ``ntk_vp``."""
    x = _as_inputs(net, x, "x")
    v = jax.random.normal(jax.random.key(seed), (x.shape[0], net.outputs), x.dtype)
    product = jax.jit(lambda u: ntk_vp(net, params, x, u))
    value = 0.0
    for _ in range(iterations):
        v = v / jnp.linalg.norm(v)
        w = product(v)
        value = float(jnp.vdot(v, w))
        if not math.isfinite(value):
            break
        v = w
    return value
