"""Lazy Gaussian matrices: exact samples of W v and W^T u without ever drawing W.

W (n_out x n_in) has iid N(0, 1) entries. Keep orthonormal bases E of the past right
queries (with Y = W E) and F of the past left queries (with Z = W^T F). A new right query
is written v = E c + rho e with e a unit vector orthogonal to E; then

    W v = Y c + rho [F (Z^T e) + (I - F F^T) xi],   xi ~ N(0, I_{n_out}) fresh,

and (e, W e) joins (E, Y). In bases rotated to contain E and F the block of W between
their complements is iid Gaussian and independent of everything known, so every answer is
exact in distribution, even for queries chosen from earlier answers. W^T u is the mirror
image. A query within a relative ``tolerance`` of the span of earlier ones draws nothing
(its answer then misses a fresh part of variance below tolerance^2). Cost per query
O(n k) for k past queries; memory O(n k) instead of O(n_out n_in).

Queries come in blocks (all the products a layer needs at once). A block's residuals
are orthonormalized together by Cholesky QR on their small Gram matrix (a pivot below
``tolerance`` drops the direction), so a block costs a fixed handful of passes over its
n-vectors whatever its size; there is no loop over queries. The bases grow by the
block's size (static shapes), zero columns for dropped directions.

``normal`` draws the fresh noise: N(0, 1) by the inverse normal distribution function
(Wichura's AS 241, relative error about 1e-16) from a counter-based Threefry-4x32
stream, faster on CPUs than ``jax.random.normal`` (Threefry-2x32 and an erf^{-1} that
XLA splits into several passes), by about 1.7x in float64.

>>> import jax, jax.numpy as jnp
>>> w = empty(3, 5)
>>> w, a = right(w, jnp.eye(5)[:2], normal(jax.random.key(0), (3, 2)))
>>> w, b = left(w, jnp.eye(3)[:1], normal(jax.random.key(1), (5, 1)))
>>> bool(jnp.allclose(a[:, 0], b[0, :2]))    # e_1^T (W e_j) == (W^T e_1)_j
True
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

# Wichura (1988), AS 241 PPND16: Phi^{-1}(p) = q A(r) / B(r), r = 0.180625 - q^2 for
# |q| = |p - 1/2| <= 0.425; else r = sqrt(-log(min(p, 1 - p))) and C(r - 1.6) / D(r - 1.6)
# for r <= 5, E(r - 5) / F(r - 5) beyond. Coefficients lowest order first.
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
      13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
      33430.575583588128105, 2509.0809287301226727)
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
      21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
      5226.495278852545925)
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
      3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
      0.0227238449892691845833, 7.7454501427834140764e-4)
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
      0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
      1.05075007164441684324e-9)
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
      0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
      2.04426310338993978564e-15)
_CHUNK = 1 << 14


def inverse_normal_cdf(p: jax.Array) -> jax.Array:
    """Phi^{-1}(p) for p in (0, 1) (AS 241): one rational function, its coefficients
    and argument chosen per element from the three regions."""
    q = p - 0.5
    t = jnp.sqrt(-jnp.log(jnp.minimum(p, 1.0 - p)))
    centre = jnp.abs(q) <= 0.425
    near = t <= 5.0
    x = jnp.where(centre, 0.180625 - q * q, jnp.where(near, t - 1.6, t - 5.0))

    def poly(a: tuple[float, ...], c: tuple[float, ...], e: tuple[float, ...]) -> jax.Array:
        out = jnp.zeros_like(x)
        for i in range(len(a) - 1, -1, -1):
            out = out * x + jnp.where(centre, a[i], jnp.where(near, c[i], e[i]))
        return out

    ratio = poly(_A, _C, _E) / poly(_B, _D, _F)
    return jnp.where(centre, q, jnp.sign(q)) * ratio


def normal(key: jax.Array, shape: tuple[int, ...], dtype: jnp.dtype | None = None
           ) -> jax.Array:
    """iid N(0, 1) of ``shape``: Phi^{-1}(p), p = (2k + 1) / 2^(m + 1) with k uniform
    on [0, 2^m) (m mantissa bits: 52 in float64, 23 in float32; every p exact) from
    Threefry-4x32 bits keyed by ``key``. The grid of p is symmetric about 1/2, so the law is
    exactly symmetric; its tails end at |x| = 8.3 (float64), 5.4 (float32). Generated
    in chunks of ``_CHUNK`` numbers (chunk i from ``fold_in(key, i)``) so the
    intermediates stay in cache."""
    dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    info = jnp.finfo(dtype)
    size = math.prod(shape)
    chunks = -(-size // _CHUNK)
    fast = _fast_key(key)

    def chunk(i: jax.Array) -> jax.Array:
        bits = jax.random.bits(jax.random.fold_in(fast, i), (_CHUNK,),
                               jnp.dtype(f"uint{info.bits}"))
        k = jax.lax.shift_right_logical(bits, np.asarray(info.bits - info.nmant, bits.dtype))
        return inverse_normal_cdf((2 * k + 1).astype(dtype)
                                  * dtype.type(2.0 ** -(info.nmant + 1)))

    flat = jax.lax.map(chunk, jnp.arange(chunks)).reshape(-1)
    return (flat if chunks * _CHUNK == size else flat[:size]).reshape(shape)


def _fast_key(key: jax.Array) -> jax.Array:
    """A Threefry-4x32 key derived from any typed key (one tiny draw of its own impl).
    (Philox is faster still but does not lower in sharded computations.)"""
    return jax.random.wrap_key_data(jax.random.bits(key, (4,), jnp.uint32),
                                    impl="threefry4x32")


class LazyGaussian(NamedTuple):
    """What is known of one iid N(0, 1) matrix W (n_out, n_in): a pytree.

    Attributes:
      E: (n_in, right) orthonormal directions of the past right queries (zero columns
        for queries that added none).
      Y: (n_out, right) W E.
      F: (n_out, left) orthonormal directions of the past left queries.
      Z: (n_in, left) W^T F.
    """

    E: jax.Array
    Y: jax.Array
    F: jax.Array
    Z: jax.Array


def tolerance(dtype: jnp.dtype) -> float:
    """The relative residual below which a query counts as in the span of earlier ones:
    well above the rounding error of a Gram-matrix pivot (its square)."""
    return 1e-6 if jnp.dtype(dtype) == jnp.float64 else 1e-2


def empty(n_out: int, n_in: int, dtype: jnp.dtype | None = None) -> LazyGaussian:
    """Nothing known yet."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    return LazyGaussian(jnp.zeros((n_in, 0), dtype), jnp.zeros((n_out, 0), dtype),
                        jnp.zeros((n_out, 0), dtype), jnp.zeros((n_in, 0), dtype))


def _cholesky(gram: jax.Array, tol: float) -> jax.Array:
    """Lower-triangular L with L L^T = gram, a column zeroed where its pivot is below
    tol^2 (that row then lies in the span of the earlier kept ones)."""
    m = gram.shape[0]
    rows = jnp.arange(m)

    def column(j: jax.Array, low: jax.Array) -> jax.Array:
        v = gram[:, j] - low @ low[j]
        keep = v[j] > tol ** 2
        return low.at[:, j].set(jnp.where((rows >= j) & keep,
                                          v / jnp.sqrt(jnp.where(keep, v[j], 1.0)), 0.0))

    return jax.lax.fori_loop(0, m, column, jnp.zeros_like(gram))


def _inverse(low: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(T, kept): T L = I on the kept rows and columns of a ``_cholesky`` factor, rows of
    dropped directions zero."""
    keep = jnp.diagonal(low) > 0
    safe = low + jnp.diag(jnp.where(keep, 0.0, 1.0).astype(low.dtype))
    inverse = jax.scipy.linalg.solve_triangular(safe, jnp.eye(len(low), dtype=low.dtype),
                                                lower=True)
    return inverse * keep[:, None], keep


def _condition(basis: jax.Array, image: jax.Array, other_basis: jax.Array,
               other_image: jax.Array, queries: jax.Array, noise: jax.Array
               ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Answer a block of ``queries`` (rows) and append its new directions to (basis,
    image); column i of ``noise`` is the i-th fresh xi.

    Unit queries u = c basis^T + r with c = u basis; r = L Q by Cholesky QR of the
    residual Gram u u^T - c c^T, so Q = T (u - c basis^T) with T = L^{-1}. Every
    n-length product is one matrix product of the queries or the stored arrays (all
    stored as columns, the layout XLA's CPU products are fastest in); Q itself is formed
    only if a later block needs it. Then W Q^T = xi + F (Z^T Q^T - F^T xi) and
    W u^T = Y c^T + (W Q^T) L^T. Any orthonormal basis of the new span chosen from the
    queries alone gives the same law.
    """
    count = queries.shape[0]
    if noise.shape != (image.shape[0], count):
        raise ValueError(f"noise must have shape {(image.shape[0], count)} (one fresh "
                         f"N(0, I) column per query), got {noise.shape}.")
    q = queries.T
    gram = q.T @ q
    norms = jnp.sqrt(jnp.diagonal(gram))
    scale = 1.0 / jnp.where(norms > 0, norms, 1.0)
    gram = gram * scale[:, None] * scale[None, :]
    has_basis = basis.shape[1] > 0
    if has_basis:
        c = (q.T @ basis) * scale[:, None]
        gram = gram - c @ c.T
    low = _cholesky(gram, tolerance(queries.dtype))
    t, keep = _inverse(low)
    ts = t * scale[None, :]  # Q = ts queries - (t c) basis^T
    new = q @ ts.T
    if has_basis:
        new = new - basis @ (t @ c).T
    fresh = noise.astype(queries.dtype) * keep[None, :]
    if other_basis.shape[1]:  # W Q^T, exact given everything known
        known = (other_image.T @ q) @ ts.T
        if has_basis:
            known = known - (other_image.T @ basis) @ (t @ c).T
        fresh = fresh + other_basis @ (known - other_basis.T @ fresh)
    answers = fresh @ low.T
    if has_basis:
        answers = answers + image @ c.T
    return (jnp.concatenate([basis, new], axis=1),
            jnp.concatenate([image, fresh], axis=1), norms[:, None] * answers.T)


def right(w: LazyGaussian, vs: ArrayLike, noise: jax.Array
          ) -> tuple[LazyGaussian, jax.Array]:
    """W v for each row v of ``vs`` (count, n_in), in order: the updated state and the
    answers (count, n_out). ``noise`` (n_out, count) holds iid N(0, 1) draws never used
    before."""
    vs = jnp.asarray(vs, w.E.dtype)
    E, Y, answers = _condition(w.E, w.Y, w.F, w.Z, vs, noise)
    return LazyGaussian(E, Y, w.F, w.Z), answers


def left(w: LazyGaussian, us: ArrayLike, noise: jax.Array
         ) -> tuple[LazyGaussian, jax.Array]:
    """W^T u for each row u of ``us`` (count, n_out), noise (n_in, count): the mirror
    image of ``right``."""
    us = jnp.asarray(us, w.F.dtype)
    F, Z, answers = _condition(w.F, w.Z, w.E, w.Y, us, noise)
    return LazyGaussian(w.E, w.Y, F, Z), answers
