"""The Gaussian averages of an activation that the 1/n recursions use, at a kernel K.

For z ~ N(0, K) on m inputs, with X_ab = s(z_a) s(z_b) and Y_ab = s'(z_a) s'(z_b):

    a0 = <X>,  s = <Y>,  p02 = <s_a s''_b>,
    d0, d1 = d<X_ab> / dK(e,f), d<Y_ab> / dK(e,f)            (m, m, m, m),
    h0, h1 = d^2<X_ab> / dK(e,f) dK(g,h), same for Y            (m,) * 6,
    xx, xy, yy = <X_ab X_cd>, <X_ab Y_cd>, <Y_ab Y_cd>          (m, m, m, m),

derivatives on the ordered entries of K (K(e,f) and K(f,e) separately, as ``recursions``).

- Smooth activations (``SMOOTH``): by Price's theorem d<F>/dK(e,f) = (1/2) <d_e d_f F>,
  every derivative of <s^(i)_a s^(j)_b> is a sum of pair averages <s^(p)_a s^(q)_b>
  (``recursions.pair_moments``, 2-D Gauss-Hermite), so h1 needs s up to its fifth
  derivative; xx, xy, yy come from the m-dimensional rule.
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


def pair_moments(name: str, k: jax.Array, order: int) -> jax.Array:
    """E2[i, j, a, b] = <s^(i)(z_a) s^(j)(z_b)>_k for i, j = 0..``order`` and every ordered
    pair of the m inputs, by the 2-D rule on each 2x2 block of ``k`` (m, m) (coinciding
    inputs give a degenerate block, which the rule handles)."""
    fns = derivatives(name, order)
    m = k.shape[-1]
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    blocks = jnp.stack([jnp.stack([k[i, i], k[i, j]], -1),
                        jnp.stack([k[j, i], k[j, j]], -1)], -2)  # (m, m, 2, 2)

    def one(block: jax.Array) -> jax.Array:
        def integrand(z: jax.Array) -> jax.Array:
            s = jnp.stack([f(z) for f in fns], 1)  # (P, order + 1, 2)
            return s[:, :, None, 0] * s[:, None, :, 1]

        return quadrature.expectation(integrand, block, POLYNOMIAL_POINTS.get(name))

    return jnp.moveaxis(jax.vmap(jax.vmap(one))(blocks), (0, 1), (2, 3))


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


def _node_products(name: str, k: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """X_ab and Y_ab on the m-dimensional rule's nodes, (P, m, m), with the weights (P,)."""
    s, ds = derivatives(name, 1)
    z, w = quadrature.nodes(k, POLYNOMIAL_POINTS.get(name))
    s0, s1 = s(z), ds(z)
    return s0[:, :, None] * s0[:, None, :], s1[:, :, None] * s1[:, None, :], w


def moment(w: jax.Array, u: jax.Array, v: jax.Array) -> jax.Array:
    """<u_ab v_cd> (m, m, m, m) from symmetric node values (P, m, m) and weights (P,), as
    the weighted Gram matrix of the m (m + 1) / 2 distinct entries."""
    m = u.shape[-1]
    i, j = np.triu_indices(m)
    index = np.zeros((m, m), dtype=int)
    index[i, j] = index[j, i] = np.arange(len(i))
    gram = (u[:, i, j] * w[:, None]).T @ v[:, i, j]
    return gram[index[:, :, None, None], index[None, None, :, :]]


def smooth(name: str, k: jax.Array, tangent: bool) -> Averages:
    """Price's theorem on 2-D pair averages and the m-dimensional rule; ``tangent`` adds
    the NTK's averages (xy, yy and the fifth derivative h1 needs)."""
    e2 = pair_moments(name, k, 5 if tangent else 4)
    x, y, w = _node_products(name, k)
    return Averages(
        e2[0, 0], e2[1, 1], e2[0, 2], price(e2, 0, 0, 1), price(e2, 1, 1, 1),
        price(e2, 0, 0, 2), price(e2, 1, 1, 2) if tangent else jnp.zeros(()),
        moment(w, x, x), moment(w, x, y) if tangent else None,
        moment(w, y, y) if tangent else None)


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


def averages(name: str, k: jax.Array, tangent: bool = False) -> Averages:
    """The averages of ``name`` at the kernel ``k`` (m, m): ``relu`` by closed forms,
    the ``SMOOTH`` activations by Price's theorem and quadrature."""
    return relu(k, tangent) if name == "relu" else smooth(name, k, tangent)
