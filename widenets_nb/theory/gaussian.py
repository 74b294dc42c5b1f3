"""The Gaussian averages of an activation that the 1/n recursions use, at a kernel K.

For z ~ N(0, K) on m inputs, with X_ab = s(z_a) s(z_b) and Y_ab = s'(z_a) s'(z_b):

    a0 = <X>,  s = <Y>,  p02 = <s_a s''_b>,
    d0, d1 = d<X_ab> / dK(e,f), d<Y_ab> / dK(e,f)            (m, m, m, m),
    h0, h1 = d^2<X_ab> / dK(e,f) dK(g,h), same for Y            (m,) * 6,
    xx, xy, yy = <X_ab X_cd>, <X_ab Y_cd>, <Y_ab Y_cd>          (m, m, m, m),

derivatives on the ordered entries of K (K(e,f) and K(f,e) separately, as ``recursions``).

- Smooth activations (``SMOOTH``): by Price's theorem d<F>/dK(e,f) = (1/2) <d_e d_f F>,
  every derivative of <s^(i)_a s^(j)_b> is a sum of pair averages <s^(p)_a s^(q)_b>
  (``pair_moments``: 1-D rule for a = b, 2-D for a != b), so h1 needs s up to its fifth
  derivative. xx, xy, yy (``four_moments``) are computed once per distinct multiset of
  factors, each on the rule of its own support: <s_a^2 s_b^2> is a 2-D integral,
  <s_a^2 s_b s_c> 3-D, and only <s_a s_b s_c s_d> of four distinct inputs is 4-D (35
  integrals for xx on 4 inputs instead of a 4-D grid for all 256 entries). The rules and
  their accuracy (below 1e-8 relative for tanh, gelu, erf, sin) are ``quadrature``'s.
- ReLU (m <= 2 inputs): closed forms. Off the diagonal the arc-cosine kernels of
  ``kernels.gaussian_expectations`` (Cho & Saul 2009: <X_ab> = sqrt(K_aa K_bb)
  (sin t + (pi - t) cos t) / 2 pi, <Y_ab> = (pi - t) / 2 pi, cos t = K_ab / sqrt(K_aa K_bb))
  and <s_a s''_b> = <s(z_a) delta(z_b)> = sqrt(K_aa K_bb - K_ab^2) / (2 pi K_bb); on it
  <s^2> = K / 2, <s'^2> = 1 / 2, <s s''> = 0. Their derivatives are taken by automatic
  differentiation of these functions of the 2 x 2 blocks (smooth for |cos t| < 1, so the
  inputs of a pair must not be parallel), never through s'' = delta. xx, xy, yy are 2-D
  integrals of positively homogeneous functions of degree k: in polar coordinates
  z = L r (cos u, sin u) they are 2^(k/2) Gamma(k/2 + 1) / (2 pi) times the integral over u,
  done by Gauss-Legendre on the arcs between the angles where z_1 or z_2 changes sign (on
  each arc the integrand is a trigonometric polynomial of degree <= 4: exact to rounding).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..kernels import gaussian_expectations
from ..nets import derivatives
from . import quadrature

#: Activations with five smooth derivatives, averaged by Price's theorem and quadrature.
SMOOTH: tuple[str, ...] = ("linear", "tanh", "erf", "gelu", "sin", "softplus")
#: Activations averaged by closed forms, with the largest number of inputs they take.
CLOSED: dict[str, int] = {"relu": 2}
#: Gauss-Hermite points per axis for polynomial activations: every integrand of a linear
#: network has degree <= 4 in each variable, integrated exactly by 3 or more points.
POLYNOMIAL_POINTS: dict[str, int] = {"linear": 5}
#: per-dimension quadrature rules (``quadrature.choose``), or None for the defaults.
Rules = tuple[tuple[float | int, ...], ...] | None
#: Gauss-Legendre points per arc of the polar rule (ReLU).
ARC_POINTS = 24


@dataclasses.dataclass(frozen=True)
class Averages:
    """The averages of the module docstring at one kernel (xy, yy None when not asked)."""

    a0: jax.Array
    s: jax.Array
    p02: jax.Array
    d0: jax.Array
    d1: jax.Array
    h0: jax.Array
    h1: jax.Array
    xx: jax.Array
    xy: jax.Array | None
    yy: jax.Array | None


jax.tree_util.register_dataclass(Averages, data_fields=[f.name for f in dataclasses.fields(
    Averages)], meta_fields=[])


def pair_moments(name: str, k: jax.Array, order: int, axes: Rules = None) -> jax.Array:
    """E2[i, j, a, b] = <s^(i)(z_a) s^(j)(z_b)>_k for i, j = 0..``order`` and every ordered
    pair of the m inputs: the 1-D rule at K_aa for a = b, the 2-D rule on the 2x2 block of
    ``k`` (m, m) for each a < b (nearly parallel inputs give a nearly degenerate block,
    which the rule handles), its transpose for b > a (``axes`` as for
    ``product_moments``)."""
    fns = derivatives(name, order)
    m = k.shape[-1]

    def one(block: jax.Array) -> jax.Array:
        rule = None if axes is None else axes[block.shape[-1] - 1]
        z, w = quadrature.columns(block, POLYNOMIAL_POINTS.get(name, rule))
        s = jnp.stack([f(z) for f in fns])  # (order + 1, dimension, P)
        return (s[:, 0] * w[None, :]) @ s[:, -1].T

    diagonal = jnp.diagonal(k)
    out = jnp.zeros((order + 1, order + 1, m, m), k.dtype)
    out = out.at[:, :, np.arange(m), np.arange(m)].set(
        jnp.moveaxis(jax.vmap(one)(diagonal[:, None, None]), 0, -1))
    if m == 1:
        return out
    a, b = np.triu_indices(m, 1)
    blocks = jnp.stack([jnp.stack([diagonal[a], k[a, b]], -1),
                        jnp.stack([k[b, a], diagonal[b]], -1)], -2)  # (pairs, 2, 2)
    off = jnp.moveaxis(jax.vmap(one)(blocks), 0, -1)  # (order + 1, order + 1, pairs)
    return out.at[:, :, a, b].set(off).at[:, :, b, a].set(jnp.swapaxes(off, 0, 1))


def price(e2: jax.Array, i: int, j: int, order: int) -> jax.Array:
    """The ``order``-th derivative of <s^(i)_a s^(j)_b>_K with respect to ordered entries
    K(e_1, f_1) ... K(e_order, f_order), (m, m) + (m,) * 2 order, by Price's theorem:
    2^-order sum over the ways to put each of the 2 order derivatives d_e on factor a or
    b (a Kronecker delta each) of <s^(i + #a)_a s^(j + #b)_b>."""
    m = e2.shape[-1]
    eye = jnp.eye(m, dtype=e2.dtype)
    on = (eye[:, None, :], eye[None, :, :])  # [a, ., e] and [., b, e]
    out = 0.0
    for sides in itertools.product((0, 1), repeat=2 * order):
        term = e2[i + sides.count(0), j + sides.count(1)]
        for side in sides:
            factor = on[side]
            term = term[..., None] * factor.reshape(factor.shape[:2] + (1,) * (term.ndim - 2)
                                                    + (m,))
        out = out + term
    return out / 2**order


def product_moments(name: str, k: jax.Array, keys: list[tuple[tuple[int, int], ...]],
                    axes: Rules = None) -> jax.Array:
    """<prod_(a, i) in key s^(i)(z_a)>_k for each key (a tuple of (input, derivative order)
    factors), each on the rule of its own support {a}: a key with two distinct inputs is a
    2-D integral whatever the size of ``k`` (m, m); ``axes[j - 1]`` is the rule of j-D
    supports (``quadrature.choose``; None: ``quadrature.AXES``). Returns (len(keys),)."""
    fns = derivatives(name, max(i for key in keys for _, i in key))
    orders = sorted({i for key in keys for _, i in key})
    values: dict[tuple[tuple[int, int], ...], jax.Array] = {}
    for support in sorted({tuple(sorted({a for a, _ in key})) for key in keys}, key=len):
        rule = POLYNOMIAL_POINTS.get(name, None if axes is None else axes[len(support) - 1])
        z, w = quadrature.columns(k[np.ix_(support, support)], rule)
        cols = {i: fns[i](z) for i in orders}
        for key in keys:
            if tuple(sorted({a for a, _ in key})) == support:
                factors = [cols[i][support.index(a)] for a, i in key]
                values[key] = w @ functools.reduce(jnp.multiply, factors)
    return jnp.stack([values[key] for key in keys])


def four_moments(name: str, k: jax.Array, types: tuple[int, int, int, int],
                 axes: Rules = None) -> jax.Array:
    """<s^(t1)_a s^(t2)_b s^(t3)_c s^(t4)_d>_k, (m, m, m, m), for the derivative orders
    ``types``: each distinct multiset of factors once (35 for xx on m = 4 inputs), on the
    rule of its support (``product_moments``)."""
    m = k.shape[-1]
    index, keys = {}, []
    for abcd in itertools.product(range(m), repeat=4):
        key = tuple(sorted(zip(abcd, types, strict=True)))
        if key not in index:
            index[key] = len(keys)
            keys.append(key)
    where = np.array([index[tuple(sorted(zip(abcd, types, strict=True)))]
                      for abcd in itertools.product(range(m), repeat=4)])
    return product_moments(name, k, keys, axes)[where].reshape((m,) * 4)


def moment(w: jax.Array, u: jax.Array, v: jax.Array) -> jax.Array:
    """<u_ab v_cd> (m, m, m, m) from symmetric node values (P, m, m) and weights (P,), as
    the weighted Gram matrix of the m (m + 1) / 2 distinct entries (ReLU's polar rule)."""
    m = u.shape[-1]
    i, j = np.triu_indices(m)
    index = np.zeros((m, m), dtype=int)
    index[i, j] = index[j, i] = np.arange(len(i))
    gram = (u[:, i, j] * w[:, None]).T @ v[:, i, j]
    return gram[index[:, :, None, None], index[None, None, :, :]]


def smooth(name: str, k: jax.Array, tangent: bool, axes: Rules = None) -> Averages:
    """Price's theorem on the pair averages and ``four_moments``; ``tangent`` adds the
    NTK's averages (xy, yy and the fifth derivative h1 needs)."""
    e2 = pair_moments(name, k, 5 if tangent else 4, axes)
    return Averages(
        e2[0, 0], e2[1, 1], e2[0, 2], price(e2, 0, 0, 1), price(e2, 1, 1, 1),
        price(e2, 0, 0, 2), price(e2, 1, 1, 2) if tangent else jnp.zeros(()),
        four_moments(name, k, (0, 0, 0, 0), axes),
        four_moments(name, k, (0, 0, 1, 1), axes) if tangent else None,
        four_moments(name, k, (1, 1, 1, 1), axes) if tangent else None)


def _relu_pairs(k: jax.Array) -> jax.Array:
    """(<X_ab>, <Y_ab>, <s_a s''_b>) as (3, m, m) functions of every entry of ``k``
    (off-diagonal blocks symmetrized, so derivatives land half on each ordered entry)."""
    m = k.shape[-1]
    diag = jnp.diagonal(k)
    rows = []
    for a in range(m):
        row = []
        for b in range(m):
            if a == b:
                row.append(jnp.stack([diag[a] / 2, jnp.full_like(diag[a], 0.5),
                                      jnp.zeros_like(diag[a])]))
                continue
            kab = (k[a, b] + k[b, a]) / 2
            xx, yy = gaussian_expectations("relu", diag[a], diag[b], kab)
            p02 = jnp.sqrt(diag[a] * diag[b] - kab**2) / (2 * jnp.pi * diag[b])
            row.append(jnp.stack([xx, yy, p02]))
        rows.append(jnp.stack(row, -1))
    return jnp.stack(rows, -2)


def _relu_four(k: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """xx, xy, yy of ReLU for m <= 2 inputs by the polar rule (module docstring)."""
    m = k.shape[-1]
    if m == 1:  # <s^4> = 3 K^2 / 2, <s^2 s'^2> = K / 2, <s'^4> = 1 / 2
        kk = k[0, 0]
        return (jnp.reshape(1.5 * kk**2, (1,) * 4), jnp.reshape(kk / 2, (1,) * 4),
                jnp.full((1,) * 4, 0.5, k.dtype))
    root = jnp.linalg.cholesky(k + quadrature.JITTER * jnp.max(jnp.diagonal(k)) * jnp.eye(2))
    # z_1 = 0 at u = +-pi/2; z_2 = 0 where L10 cos u + L11 sin u = 0
    u2 = jnp.arctan2(-root[1, 0], root[1, 1])
    cuts = jnp.sort(jnp.mod(jnp.array([jnp.pi / 2, 3 * jnp.pi / 2, u2, u2 + jnp.pi]),
                            2 * jnp.pi))
    edges = jnp.concatenate([jnp.zeros(1), cuts, jnp.full(1, 2 * jnp.pi)])
    t, v = np.polynomial.legendre.leggauss(ARC_POINTS)
    half = (edges[1:] - edges[:-1])[:, None] / 2
    u = ((edges[1:] + edges[:-1])[:, None] / 2 + half * t[None]).reshape(-1)
    wu = (half * v[None]).reshape(-1)
    z = jnp.stack([jnp.cos(u), jnp.sin(u)], 1) @ root.T  # radius 1
    s0, s1 = jnp.maximum(z, 0.0), (z > 0).astype(z.dtype)
    x, y = s0[:, :, None] * s0[:, None, :], s1[:, :, None] * s1[:, None, :]

    def radial(degree: int) -> float:
        return 2 ** (degree / 2) * math.gamma(degree / 2 + 1) / (2 * math.pi)

    return (radial(4) * moment(wu, x, x), radial(2) * moment(wu, x, y),
            radial(0) * moment(wu, y, y))


def relu(k: jax.Array, tangent: bool) -> Averages:
    """Closed forms for ReLU on m <= 2 inputs (module docstring)."""
    pairs = _relu_pairs(k)
    first = jax.jacfwd(_relu_pairs)(k)
    second = jax.jacfwd(jax.jacfwd(_relu_pairs))(k)
    xx, xy, yy = _relu_four(k)
    return Averages(pairs[0], pairs[1], pairs[2], first[0], first[1], second[0], second[1],
                    xx, xy if tangent else None, yy if tangent else None)


def averages(name: str, k: jax.Array, tangent: bool = False, axes: Rules = None
             ) -> Averages:
    """The averages of ``name`` at the kernel ``k`` (m, m): ``relu`` by closed forms,
    the ``SMOOTH`` activations by Price's theorem and quadrature (``axes``: the rules of
    ``quadrature.choose``, None for ``quadrature.AXES``)."""
    return relu(k, tangent) if name == "relu" else smooth(name, k, tangent, axes)
