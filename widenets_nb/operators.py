"""The operators O_s of the training tower (Sec. 3, eq. 9-10, App. E.4) and their contractions.

    O_1 = f,   O_s(x_1..x_s) = sum_mu d_mu O_{s-1}(x_1..x_{s-1}) d_mu f(x_s)   (eq. 9)

so O_2 = Theta and O_3(x1, x2, x3) = D_{g3} Theta(x1, x2) with g = grad_theta f. The last
argument is the outermost derivative: O_4 is not symmetric in its last two arguments.

Contractions with training-set vectors need no tensor: sum_c O_3(x1, x2, c) u_c =
D_{G_u} Theta(x1, x2) with G_u = sum_a u_a grad f(x_a) (``o3_dot``), and O_4 is a nested
directional derivative in which the inner direction G_u moves with theta (``o4_dot``).

``tower`` builds every operator the O(1/n) dynamics needs (continuous and discrete time) on
a small training set (N points) and a few extra inputs (M in all), from three kinds of
building blocks: gradients g_y, Hessian-gradient products H_y g_z (one JVP of the Jacobian
per direction) and third derivatives K_y(., g_c, g_d) (a JVP of a JVP), contracted at once.

``reduce_to_span`` makes this cheap for a given network on MNIST: a network only sees its
inputs through U x, and gradient descent on inputs spanning an M-dimensional subspace only
moves U inside it, so the network with U Q (Q an orthonormal basis of the span) on
M-dimensional coordinates has exactly the same f, Theta, O_s and training trajectory. (The
figures sample their networks directly on ``training.experiments.gram_inputs``, which has
the same law for Gaussian weights.)
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from .nets import Network, Params
from .ntk import ntk


@dataclasses.dataclass(frozen=True)
class Reduced:
    """A network restricted to the span of its inputs (exactly equivalent on them).

    Attributes:
      net: the same network with ``input_dim`` = the dimension M of the span.
      params: the same parameters with U replaced by U Q.
      x: (K, M) the inputs in coordinates of the span (rescaled so that the D^{-1/2}
        input scaling of the original network is kept).
      basis: (D, M) the orthonormal basis Q.
    """

    net: Network
    params: Params
    x: np.ndarray
    basis: np.ndarray


def reduce_to_span(net: Network, params: Params, x: ArrayLike) -> Reduced:
    """Restrict a network to the span of the inputs ``x`` (K, D) without changing f on it.

    Raises:
      ValueError: the inputs are linearly dependent (duplicates), or K > D.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"x has shape {x.shape}; pass inputs (K, {net.input_dim}).")
    count, dim = x.shape
    q, r = np.linalg.qr(x.T)
    diag = np.abs(np.diag(r))
    if count > dim or diag.min() <= 1e-10 * diag.max():
        raise ValueError("the inputs are linearly dependent (a duplicate image?); "
                         "remove duplicates before reducing to their span.")
    scale = np.sqrt(count / dim) if net.input_scaling else 1.0
    reduced = dataclasses.replace(net, input_dim=count)
    dtype = jnp.result_type(float)
    new = dict(params)
    new["U"] = jnp.asarray(params["U"] @ jnp.asarray(q, params["U"].dtype), dtype)
    return Reduced(reduced, new, (x @ q * scale).astype(dtype), q)


def _as_batch(net: Network, x: ArrayLike, name: str) -> jax.Array:
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"{name} has shape {x.shape}; pass inputs (N, {net.input_dim}).")
    return x


def gradient_combination(net: Network, params: Params, x: ArrayLike, u: ArrayLike) -> Params:
    """G_u = sum_a u_a grad_theta f(x_a), one VJP (a params-shaped pytree)."""
    x = _as_batch(net, x, "x")
    u = jnp.asarray(u, dtype=x.dtype)
    if u.shape != (x.shape[0],):
        raise ValueError(f"u has shape {u.shape}; expected one weight per input ({x.shape[0]},).")
    _, pullback = jax.vjp(lambda p: net.scalar(p, x), params)
    return pullback(u)[0]


def o3_dot(net: Network, params: Params, x1: ArrayLike, x2: ArrayLike, x_train: ArrayLike,
           u: ArrayLike) -> jax.Array:
    """sum_c O_3(x1_i, x2_j, c) u_c = D_{G_u} Theta(x1_i, x2_j) (eq. 9), an (N1, N2) array."""
    x1, x2 = _as_batch(net, x1, "x1"), _as_batch(net, x2, "x2")
    direction = gradient_combination(net, params, x_train, u)
    return jax.jvp(lambda p: ntk(net, p, x1, x2), (params,), (direction,))[1]


def o4_dot(net: Network, params: Params, x1: ArrayLike, x2: ArrayLike, x_train: ArrayLike,
           u: ArrayLike, v: ArrayLike) -> jax.Array:
    """sum_{cd} O_4(x1_i, x2_j, c, d) u_c v_d = D_{G_v} [D_{G_u(theta)} Theta] (eq. 9).

    ``u`` contracts the third argument (the inner derivative, whose direction G_u moves with
    theta), ``v`` the fourth (the outer one).
    """
    x1, x2 = _as_batch(net, x1, "x1"), _as_batch(net, x2, "x2")

    def inner(p):
        return jax.jvp(lambda q: ntk(net, q, x1, x2), (p,),
                       (gradient_combination(net, p, x_train, u),))[1]

    return jax.jvp(inner, (params,), (gradient_combination(net, params, x_train, v),))[1]


@dataclasses.dataclass(frozen=True)
class Tower:
    """The operators of one initialization on inputs X = (training points, then others).

    Index conventions: x, x1 run over all M inputs; x2, a, b, c, d over the N training points
    (the first N rows of X).

    Attributes:
      f0: (M,) f at initialization.
      y: (N,) training targets.
      theta: (M, N) Theta_0(x1, x2).
      o3: (M, N, N) O_3(x1, x2, c).
      o4: (M, N, N, N) O_4(x1, x2, c, d) (c inner, d outer derivative).
      o11: (M, N, N) O_{1,1}(x, a, b) = sum d_mu d_nu f(x) d_mu f(a) d_nu f(b) (eq. 117).
      do11: (M, N, N, N) sum_mu d_mu O_{1,1}(x, a, b) d_mu f(c), its flow (eq. 118).
      k3: (M, N, N, N) sum d3 f(x) df(a) df(b) df(c), the eta^3 term of a GD step.
      d2theta: (M, N, N, N) sum d_mu d_nu Theta(x1, x2) d_mu f(a) d_nu f(b) (fixed directions),
        the eta^2 term of the kernel's GD step.
    """

    f0: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    o3: np.ndarray
    o4: np.ndarray
    o11: np.ndarray
    do11: np.ndarray
    k3: np.ndarray
    d2theta: np.ndarray

    @property
    def n_train(self) -> int:
        return self.theta.shape[1]


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _blocks(net: Network, params: Params, x: jax.Array, n_train: int, batch: int):
    """f_0 (M,), g_y (M, P), hv[y, z] = H_y g_z (M, M, P) and
    K4[y, z, c, d] = K_y(g_z, g_c, g_d)."""
    flat, unravel = ravel_pytree(params)

    def jacobian(theta):
        return jax.vmap(jax.grad(lambda t, xi: net.scalar(unravel(t), xi)), (None, 0))(theta, x)

    def hvp(theta, direction):
        return jax.jvp(jacobian, (theta,), (direction,))[1]

    grads = jacobian(flat)
    hv = jax.lax.map(lambda g: hvp(flat, g), grads, batch_size=batch).transpose(1, 0, 2)
    rows, cols = np.triu_indices(n_train)

    def third(pair):
        c, d = pair
        k = jax.jvp(lambda t: hvp(t, grads[c]), (flat,), (grads[d],))[1]
        return k @ grads.T

    upper = jax.lax.map(third, (jnp.asarray(rows), jnp.asarray(cols)), batch_size=batch)
    k4 = jnp.zeros((n_train, n_train) + upper.shape[1:], upper.dtype)
    k4 = k4.at[rows, cols].set(upper).at[cols, rows].set(upper)
    return net.scalar(params, x), grads, hv, k4.transpose(2, 3, 0, 1)


@jax.jit
def _assemble(grads: jax.Array, hv: jax.Array, k4: jax.Array):
    """Every operator from the building blocks (index bookkeeping in the ``Tower`` docstring)."""
    n = k4.shape[-1]
    m = grads.shape[0]
    a3 = jnp.einsum("ycp,zp->yzc", hv[:, :n], grads)            # H_y(g_z, g_c)
    r = (hv.reshape(m * m, -1) @ hv[:n, :n].reshape(n * n, -1).T).reshape(m, m, n, n)
    rr = r[:, :n]                                                 # (H_x g_a).(H_b g_c)
    k4t = k4[:, :n]                                               # K_x(g_a, g_b, g_c)
    swap = k4[:n].transpose(1, 0, 2, 3)                           # K_{x2}(g_{x1}, g_c, g_d)
    o4 = (k4t + swap + rr.transpose(0, 2, 1, 3) + rr.transpose(0, 2, 3, 1) + rr
          + r[:n].transpose(1, 0, 2, 3))
    return {
        "theta": grads @ grads[:n].T,
        "o3": a3[:, :n] + a3[:n].transpose(1, 0, 2),
        "o4": o4,
        "o11": a3[:, :n],
        "do11": k4t + rr.transpose(0, 2, 1, 3) + rr,
        "k3": k4t,
        "d2theta": k4t + swap + rr.transpose(0, 2, 1, 3) + rr.transpose(0, 2, 3, 1),
    }


def tower(net: Network, params: Params, x_train: ArrayLike, y: ArrayLike,
          x_other: ArrayLike | None = None, batch: int = 8) -> Tower:
    """Every operator of the O(1/n) dynamics on the training set and the inputs ``x_other``.

    Args:
      net, params: one initialization (one output).
      x_train: (N, D) training inputs; y: (N,) or (N, 1) targets.
      x_other: (K, D) further inputs (test points) for f and Theta(x, training point).
      batch: directions processed together (memory: about batch * M * P numbers).

    Cost: M + N(N+1)/2 Jacobian JVPs and an (M^2, P) x (P, N^2) product; memory M^2 P numbers.
    """
    if net.outputs != 1:
        raise ValueError(f"the operators are for one output; the network has {net.outputs}.")
    x_train = _as_batch(net, x_train, "x_train")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape != (x_train.shape[0],):
        raise ValueError(f"y has {y.size} entries for {x_train.shape[0]} training inputs.")
    x = x_train if x_other is None else jnp.concatenate([x_train, _as_batch(net, x_other,
                                                                              "x_other")])
    f0, grads, hv, k4 = _blocks(net, params, x, x_train.shape[0], batch)
    parts = jax.device_get(_assemble(grads, hv, k4))
    f0 = np.asarray(f0, dtype=np.float64)
    return Tower(f0=f0, y=y, **{k: np.asarray(v, dtype=np.float64) for k, v in parts.items()})
