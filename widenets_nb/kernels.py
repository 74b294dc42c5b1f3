"""Infinite-width kernels of the paper's network: the NNGP covariance and the analytic NTK.

At n -> infinity f(x) is a centred Gaussian process with covariance K (the NNGP kernel)
and Theta_0 becomes the deterministic kernel Theta_inf. With s_w = ``weight_std``,
s_b = ``bias_std`` and c the input scale, both follow the layer recursion

    K_1 = s_w^2 c^2 x.x' [+ s_b^2],   K_{l+1} = s_w^2 E_{(u,v)~N(0,K_l)}[s(u) s(v)] [+ s_b^2],
    T_1 = K_1,                        T_{l+1} = s_w^2 T_l E[s'(u) s'(v)] + K_{l+1},

with the output K_f = s_w^2 E[s s] [+ s_b^2] at layer d and Theta_f = s_w^2 T_d E[s' s'] + K_f
(brackets: the biases the network has). Gaussian expectations are closed forms for linear,
ReLU (arc-cosine) and erf, and 2-D Gauss-Hermite quadrature otherwise (tanh, gelu, sin,
softplus). Everything is JAX in its default float (float64 under x64): ``infinite_width``
can be jitted (the network is static) and differentiated in the inputs away from
coinciding inputs, where the arc-cosine kernel has an infinite derivative.

These are the limits of the Gaussian network (``init="gaussian"``). Under ``init="sign"``
(uniform +-1 weights) the first layer's preactivation c u.x is a sum of only D random signs,
not Gaussian: the limit has the same first-layer kernel K_1 and, for the linear activation,
the same NNGP and NTK, but a nonlinear activation averages over the 2^D sign patterns
instead (``sign_kernels``, one hidden layer; deeper layers' preactivations are sums of n
terms, Gaussian in the limit by the central limit theorem, so the difference enters through
the first layer's expectations).
At D = 4 on the tables' first two inputs (U[0, 1]^4, no input scaling) the tanh kernels
differ by up to 9.5% (NTK off-diagonal -8.8%, NNGP diagonal +4.0% and +9.5%) and ReLU's
off-diagonal NTK by -5.7% (its diagonal is the same); at D = 16 the tanh NTK's off-diagonal
still differs by -3.1% (``tests/test_kernels.py`` asserts these, the tanh kernels at D = 4
also against a Monte Carlo estimate of the +-1 network).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .nets import Network, derivatives

_QUADRATURE_POINTS = 80


@dataclasses.dataclass(frozen=True)
class Kernels:
    """Infinite-width kernels between two sets of inputs.

    Attributes:
      nngp: (N1, N2) covariance of f at initialization, E[f(x) f(x')].
      ntk: (N1, N2) the deterministic infinite-width NTK Theta_inf(x, x').
    """

    nngp: jax.Array
    ntk: jax.Array


jax.tree_util.register_dataclass(Kernels, data_fields=["nngp", "ntk"], meta_fields=[])


@cache
def _hermite(points: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(points)
    return z, w / np.sqrt(2.0 * np.pi)


def _safe_sqrt(x: jax.Array) -> jax.Array:
    """sqrt(max(x, 0)) with a zero (not NaN) gradient where x <= 0."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def _quadrature(fn, k11: jax.Array, k22: jax.Array, k12: jax.Array) -> jax.Array:
    """E[fn(u) fn(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), elementwise."""
    z, w = (jnp.asarray(a, jnp.result_type(float)) for a in _hermite(_QUADRATURE_POINTS))
    s1, s2 = jnp.sqrt(k11), jnp.sqrt(k22)
    rho = jnp.clip(k12 / jnp.maximum(s1 * s2, jnp.finfo(k12.dtype).tiny), -1.0, 1.0)
    lead = (1,) * rho.ndim
    zi, zj = z.reshape(*lead, -1, 1), z.reshape(*lead, 1, -1)
    u = s1[..., None, None] * zi
    v = s2[..., None, None] * (rho[..., None, None] * zi
                               + _safe_sqrt(1 - rho**2)[..., None, None] * zj)
    return jnp.einsum("...ij,i,j->...", fn(u) * fn(v), w, w)


def gaussian_expectations(name: str, k11: ArrayLike, k22: ArrayLike, k12: ArrayLike
                          ) -> tuple[jax.Array, jax.Array]:
    """(E[s(u)s(v)], E[s'(u)s'(v)]) for (u, v) ~ N(0, [[k11, k12], [k12, k22]]).

    >>> ss, dd = gaussian_expectations("relu", 1.0, 1.0, 1.0)
    >>> round(float(ss), 6), round(float(dd), 6)
    (0.5, 0.5)
    """
    k11, k22, k12 = (jnp.asarray(a, jnp.result_type(float)) for a in (k11, k22, k12))
    if name == "linear":
        return k12, jnp.ones_like(k12)
    if name == "relu":
        s1s2 = jnp.sqrt(k11 * k22)
        cos = jnp.clip(k12 / jnp.maximum(s1s2, jnp.finfo(k12.dtype).tiny), -1.0, 1.0)
        theta = jnp.arctan2(_safe_sqrt(1 - cos**2), cos)
        ss = s1s2 / (2 * jnp.pi) * (jnp.sin(theta) + (jnp.pi - theta) * cos)
        return ss, (jnp.pi - theta) / (2 * jnp.pi)
    if name == "erf":
        a, b = 1 + 2 * k11, 1 + 2 * k22
        ss = 2 / jnp.pi * jnp.arcsin(jnp.clip(2 * k12 / jnp.sqrt(a * b), -1.0, 1.0))
        return ss, 4 / jnp.pi / jnp.sqrt(a * b - 4 * k12**2)
    s, ds = derivatives(name, 1)
    return _quadrature(s, k11, k22, k12), _quadrature(ds, k11, k22, k12)


def _inputs(net: Network, x: ArrayLike, name: str) -> jax.Array:
    x = jnp.asarray(x, jnp.result_type(float))
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"{name} must have shape (N, {net.input_dim}); got {x.shape}.")
    return x


def infinite_width(net: Network, x1: ArrayLike, x2: ArrayLike | None = None) -> Kernels:
    """The NNGP kernel and the infinite-width NTK of ``net`` between ``x1`` (N1, D) and
    ``x2`` (N2, D; ``x1`` when omitted).

    The width of ``net`` is ignored; its depth, activation, biases, weight and bias scales
    and input scaling count. The cross-kernel needs the diagonal variances of both sets,
    which are carried along the recursion.

    >>> net = Network(input_dim=2, depth=2, activation="linear", weight_std=2.0)
    >>> float(infinite_width(net, [[1.0, 0.0]], [[1.0, 1.0]]).nngp[0, 0])  # 2^(2(d+1))
    64.0
    """
    x1 = _inputs(net, x1, "x1")
    x2 = x1 if x2 is None else _inputs(net, x2, "x2")
    # one compiled recursion per architecture: the width and the outputs do not enter
    return Kernels(*_recursion(dataclasses.replace(net, width=1, outputs=1), x1, x2))


@functools.partial(jax.jit, static_argnums=0)
def _recursion(net: Network, x1: jax.Array, x2: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The NNGP kernel and NTK of ``infinite_width``, compiled once per architecture."""
    sw2, sb2 = net.weight_std**2, net.bias_std**2
    c2 = 1.0 / net.input_dim if net.input_scaling else 1.0
    first = sb2 if net.first_bias else 0.0
    hidden = sb2 if net.bias else 0.0
    k = sw2 * c2 * x1 @ x2.T + first
    d1 = sw2 * c2 * jnp.sum(x1**2, axis=1) + first
    d2 = sw2 * c2 * jnp.sum(x2**2, axis=1) + first
    theta = k
    for _ in range(net.depth - 1):
        ss, dd = _layer(net.activation, d1, d2, k)
        d1 = sw2 * gaussian_expectations(net.activation, d1, d1, d1)[0] + hidden
        d2 = sw2 * gaussian_expectations(net.activation, d2, d2, d2)[0] + hidden
        k = sw2 * ss + hidden
        theta = sw2 * theta * dd + k
    ss, dd = _layer(net.activation, d1, d2, k)
    nngp = sw2 * ss + (sb2 if net.readout_bias else 0.0)
    return nngp, sw2 * theta * dd + nngp


def _layer(name: str, d1: jax.Array, d2: jax.Array, k: jax.Array
           ) -> tuple[jax.Array, jax.Array]:
    k11 = jnp.broadcast_to(d1[:, None], k.shape)
    k22 = jnp.broadcast_to(d2[None, :], k.shape)
    return gaussian_expectations(name, k11, k22, k)


def sign_kernels(net: Network, x1: ArrayLike, x2: ArrayLike | None = None,
                 max_signs: int = 16) -> Kernels:
    """The infinite-width NNGP and NTK of a one-hidden-layer ``net`` with +-1 weights.

    A hidden preactivation z = s_w c u.x [+ s_b b] is a sum of D [+ 1] random signs, so
    E[s(z) s(z')] and E[s'(z) s'(z')] are exact averages over the 2^D sign patterns of u;
    the readout's sum over n neurons then gives, as for Gaussian weights,
    K_f = s_w^2 E[s s] [+ s_b^2] and Theta_f = s_w^2 K_1 E[s' s'] + K_f. The width and
    ``net.init`` are ignored.

    Raises:
      ValueError: for depth > 1 or more than ``max_signs`` signs per neuron.
    """
    x1 = _inputs(net, x1, "x1")
    x2 = x1 if x2 is None else _inputs(net, x2, "x2")
    count = net.input_dim + int(net.first_bias)
    if net.depth != 1 or count > max_signs:
        raise ValueError(f"sign_kernels needs depth 1 and at most {max_signs} signs per neuron "
                         f"(got depth {net.depth}, {count} signs); use a shallower network or "
                         "fewer input dimensions.")
    sw2, sb2 = net.weight_std**2, net.bias_std**2
    c = net.input_dim**-0.5 if net.input_scaling else 1.0
    signs = jnp.asarray(list(itertools.product((-1.0, 1.0), repeat=count)),
                        jnp.result_type(float))
    bias = (net.bias_std * signs[:, -1:]) if net.first_bias else 0.0

    def preactivations(x: jax.Array) -> jax.Array:
        return net.weight_std * c * signs[:, : net.input_dim] @ x.T + bias  # (2^count, N)

    s, ds = derivatives(net.activation, 1)
    z1, z2 = preactivations(x1), preactivations(x2)
    ss = s(z1).T @ s(z2) / len(signs)
    dd = ds(z1).T @ ds(z2) / len(signs)
    k1 = sw2 * c**2 * x1 @ x2.T + (sb2 if net.first_bias else 0.0)
    nngp = sw2 * ss + (sb2 if net.readout_bias else 0.0)
    return Kernels(nngp=nngp, ntk=sw2 * k1 * dd + nngp)
