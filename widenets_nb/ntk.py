"""The empirical neural tangent kernel (Sec. 3, eq. 7).

    Theta_AB(x, x') = sum_mu d_mu f_A(x) d_mu f_B(x')

for a network's parameters mu, outputs A, B.

- ``ntk``: the paper's MLP, from its layer structure: d f / d W_l is the outer product of
  the backpropagated g_{l+1} = d f / d z_{l+1} and the activation h_l, so

      Theta_AB(x, x') = sum_l (g_l[A](x) . g_l[B](x')) (s_w^2 c_l^2 h_{l-1}(x) . h_{l-1}(x')
                        [+ s_b^2]) + delta_AB (s_w^2 / n_d h_d(x) . h_d(x') [+ s_b^2])

  (h_0 = x, c_1 = the input scale, c_l = n_{l-1}^{-1/2}; brackets: the biases present):
  one forward and one backward pass per input and small Gram products, never a Jacobian.
- ``empirical_ntk``: any model ``apply_fn(params, x)``, by Jacobian contraction or by
  NTK-vector products.
- ``ntk_entry`` gives one component from two gradients; ``ntk_vp`` multiplies Theta by a
  vector without forming it (one VJP and one JVP).

Memory: ``memory_bytes`` bounds what a kernel computation holds besides its inputs and its
output: the per-input features (or Jacobians) of the second input set, computed once
(once in all in the symmetric case), plus one block of the first set at a time. Blocks
run under ``lax.map``, so compilation does not grow with their number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from .nets import Network, Params, derivatives, preactivations

MEMORY_BYTES = 2**30
METHODS: tuple[str, ...] = ("jacobian", "vector_products")


def _as_inputs(net: Network, x: ArrayLike, name: str) -> jax.Array:
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(
            f"{name} has shape {x.shape}; pass a batch of shape (N, {net.input_dim})."
        )
    return x


def _itemsize() -> int:
    return jnp.dtype(jnp.result_type(float)).itemsize


def _map_blocks(fn: Callable[[Any], Any], rows: Any, block: int) -> Any:
    """``fn`` over blocks of ``block`` rows of the arrays in ``rows`` (a pytree with one
    leading axis) under ``lax.map``; results concatenated on axis 0.

    The rows are padded to a multiple of ``block`` (repeating row 0) and the padding is
    cut from the results."""
    count = jax.tree.leaves(rows)[0].shape[0]
    block = max(1, min(block, count))
    blocks = -(-count // block)

    def split(a: jax.Array) -> jax.Array:
        pad = jnp.broadcast_to(a[:1], (blocks * block - count, *a.shape[1:]))
        return jnp.concatenate([a, pad]).reshape(blocks, block, *a.shape[1:])

    out = jax.lax.map(fn, jax.tree.map(split, rows))
    return jax.tree.map(lambda a: a.reshape(blocks * block, *a.shape[2:])[:count], out)


def _features(net: Network, params: Params, x: jax.Array
              ) -> tuple[list[jax.Array], list[jax.Array]]:
    """Per layer l = 1..d: g_l = d f / d z_l, shape (N, k, n_l), and h_{l-1} (h_0 = x),
    plus h_d last in the second list."""
    s, ds = derivatives(net.activation, 1)
    sw, widths = net.weight_std, net.widths
    zs = preactivations(params, x, net)
    hs = [x, *(s(z) for z in zs)]
    z = zs[-1]
    g = sw * widths[-1] ** -0.5 * params["V"].T[None] * ds(z)[:, None, :]
    gs = [g]
    for layer in range(net.depth - 1, 0, -1):
        g = sw * widths[layer - 1] ** -0.5 * (g @ params[f"W{layer}"]) * ds(zs[layer - 1])[:, None]
        gs.append(g)
    return gs[::-1], hs


def _gram(net: Network, a: tuple[list[jax.Array], list[jax.Array]],
          b: tuple[list[jax.Array], list[jax.Array]]) -> jax.Array:
    """Theta (N1, N2, k, k) from the features of two input sets (module docstring)."""
    (ga, ha), (gb, hb) = a, b
    sw2, sb2 = net.weight_std**2, net.bias_std**2
    widths = net.widths
    c2 = (1.0 / net.input_dim if net.input_scaling else 1.0,
          *(1.0 / n for n in widths[:-1]))
    theta = 0.0
    for layer in range(net.depth):
        dot = sw2 * c2[layer] * ha[layer] @ hb[layer].T
        if (net.first_bias if layer == 0 else net.bias):
            dot = dot + sb2
        theta = theta + jnp.einsum("iam,jbm->ijab", ga[layer], gb[layer]) * dot[..., None, None]
    readout = sw2 / widths[-1] * ha[-1] @ hb[-1].T + (sb2 if net.readout_bias else 0.0)
    return theta + readout[..., None, None] * jnp.eye(net.outputs, dtype=readout.dtype)[None, None]


def feature_bytes(net: Network) -> int:
    """Bytes of ``ntk``'s per-input features (g_l and h_l of every layer)."""
    return (net.outputs * sum(net.widths) + net.input_dim + sum(net.widths)) * _itemsize()


def _block_rows(per_row: int, fixed: int, memory_bytes: int, what: str) -> int:
    """How many rows of per-row cost fit beside ``fixed`` bytes in ``memory_bytes``."""
    rows = (memory_bytes - fixed) // max(per_row, 1)
    if rows < 1:
        raise ValueError(f"memory_bytes={memory_bytes} is too small: {what} need "
                         f"{fixed + per_row} bytes; raise memory_bytes or pass fewer inputs.")
    return int(rows)


def ntk(
    net: Network,
    params: Params,
    x1: ArrayLike,
    x2: ArrayLike | None = None,
    memory_bytes: int = MEMORY_BYTES,
    trace_outputs: bool = False,
) -> jax.Array:
    """Eq. (7): the empirical NTK Theta(X1, X2) of the MLP (X2 = X1 when omitted), from
    its layer structure (module docstring); jittable with ``net`` static.

    Args:
      net: the network.
      params: one initialization (``net.sample(key)`` layout).
      x1: (N1, D) inputs.
      x2: (N2, D) inputs, or None for the symmetric kernel of ``x1``.
      memory_bytes: bound on the features held beside the inputs and the output.
      trace_outputs: average Theta_AA over the outputs (neural-tangents' ``trace_axes``).

    Returns:
      (N1, N2) for one output or with ``trace_outputs``, else (N1, N2, k, k) with
      Theta_AB in the last axes.
    """
    x1 = _as_inputs(net, x1, "x1")
    xs2 = None if x2 is None else _as_inputs(net, x2, "x2")
    per_input = feature_bytes(net)
    other = x1 if xs2 is None else xs2
    # the columns' features and their blocked copy; per row: a block's forward and backward
    # pass (z, s'(z), g and h of every layer) and its rows of Theta and of the Gram products
    fixed = 2 * other.shape[0] * per_input
    per_row = 3 * per_input + 3 * other.shape[0] * net.outputs**2 * _itemsize()
    block = _block_rows(per_row, fixed, memory_bytes, f"the features of {other.shape[0]} inputs")
    columns = _map_blocks(lambda xb: _features(net, params, xb), other, block)
    if xs2 is None:  # the rows' features are the columns': no second pass
        theta = _map_blocks(lambda features: _gram(net, features, columns), columns, block)
    else:
        theta = _map_blocks(lambda xb: _gram(net, _features(net, params, xb), columns), x1,
                            block)
    if trace_outputs:
        return jnp.trace(theta, axis1=-2, axis2=-1) / net.outputs
    return theta[..., 0, 0] if net.outputs == 1 else theta


def _jacobian(apply_fn: Callable[[Any, jax.Array], jax.Array], params: Any, x: jax.Array
              ) -> jax.Array:
    """J of shape (N, k, P): d f_A(x_i) / d theta_mu, in ``ravel_pytree`` order."""
    flat, unravel = ravel_pytree(params)
    jac = jax.jacrev(lambda v: apply_fn(unravel(v), x))(flat)
    return jac.reshape(x.shape[0], -1, flat.size)


def empirical_ntk(
    apply_fn: Callable[[Any, jax.Array], jax.Array],
    params: Any,
    x1: ArrayLike,
    x2: ArrayLike | None = None,
    method: str = "jacobian",
    memory_bytes: int = MEMORY_BYTES,
) -> jax.Array:
    """Eq. (7) for any model ``apply_fn(params, x) -> (N, k)`` (e.g. a Flax module's
    ``apply`` with its variables bound): Theta of shape (N1, N2, k, k).

    ``method="jacobian"``: the Jacobians of the second set are computed once (once in all in
    the symmetric case) and held (N2 k P numbers within ``memory_bytes``); the first set
    runs in blocks. ``method="vector_products"``: Theta's columns as J(X1) (J(X2)^T e), one
    VJP and one JVP per column block, holding only a block of parameter tangents.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    x1 = jnp.asarray(x1, jnp.result_type(float))
    other = x1 if x2 is None else jnp.asarray(x2, jnp.result_type(float))
    flat, unravel = ravel_pytree(params)
    outputs = jax.eval_shape(lambda: apply_fn(params, x1[:1])).shape[-1]
    per_input = outputs * flat.size * _itemsize()
    if method == "jacobian":
        fixed = other.shape[0] * per_input
        block = _block_rows(per_input, fixed, memory_bytes,
                            f"the Jacobians of {other.shape[0]} inputs")
        jb = _map_blocks(lambda xb: _jacobian(apply_fn, params, xb), other, block)
        if x2 is None:
            return _map_blocks(lambda ja: jnp.einsum("iap,jbp->ijab", ja, jb), jb, block)
        return _map_blocks(lambda xa: jnp.einsum("iap,jbp->ijab",
                                                 _jacobian(apply_fn, params, xa), jb),
                           x1, block)
    block = _block_rows(per_input, 0, memory_bytes, "one parameter tangent")

    def columns(xb: jax.Array) -> jax.Array:
        """Theta(X1, xb) as (N1, k, b, k) from VJPs of xb's basis vectors and JVPs."""
        _, pullback = jax.vjp(lambda v: apply_fn(unravel(v), xb), flat)
        basis = jnp.eye(xb.shape[0] * outputs, dtype=flat.dtype).reshape(-1, xb.shape[0],
                                                                          outputs)
        tangents = jax.vmap(lambda e: pullback(e)[0])(basis)
        push = jax.vmap(lambda t: jax.jvp(lambda v: apply_fn(unravel(v), x1), (flat,),
                                          (t,))[1])(tangents)
        return push.reshape(xb.shape[0], outputs, x1.shape[0], outputs)

    theta = _map_blocks(columns, other, max(1, block // outputs))  # (N2, k, N1, k)
    return jnp.transpose(theta, (2, 0, 3, 1))


def ntk_entry(net: Network, params: Params, x: ArrayLike, x2: ArrayLike) -> jax.Array:
    """One component Theta(x, x') from two gradients: a scalar, or (k, k) for k outputs."""
    x, x2 = (jnp.asarray(a, jnp.result_type(float)) for a in (x, x2))
    if x.shape != (net.input_dim,) or x2.shape != (net.input_dim,):
        raise ValueError(f"x and x2 must each be one input of shape ({net.input_dim},); "
                         f"got {x.shape} and {x2.shape}.")
    theta = _gram(net, _features(net, params, x[None]), _features(net, params, x2[None]))[0, 0]
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
