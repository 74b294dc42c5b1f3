"""Lazy Gaussian matrices: exact samples of W v and W^T u without ever drawing W.

W (n_out x n_in) has iid N(0, 1) entries. Keep orthonormal bases E of the past right
queries (with Y = W E) and F of the past left queries (with Z = W^T F). A new right query
is written v = E c + rho e with e a unit vector orthogonal to E; then

    W v = Y c + rho [F (Z^T e) + (I - F F^T) xi],   xi ~ N(0, I_{n_out}) fresh,

and (e, W e) joins (E, Y). In bases rotated to contain E and F the block of W between
their complements is iid Gaussian and independent of everything known, so every answer is
exact in distribution, even for queries chosen from earlier answers. W^T u is the mirror
image. A query within a relative ``tolerance`` of the span of earlier ones draws nothing.
Cost per query O(n k) for k past queries; memory O(n k) instead of O(n_out n_in).

Queries come in blocks (all the products a layer needs at once); a block's new
directions are orthonormalized together (QR, then an SVD of the small factor to find the
rank), so there is no loop over queries to compile. Buffers have a fixed number of
columns, zero until used.

>>> import jax, jax.numpy as jnp
>>> w = empty(3, 5, right=2, left=1)
>>> w, a = right(w, jnp.eye(5)[:2], jax.random.normal(jax.random.key(0), (2, 3)), start=0)
>>> w, b = left(w, jnp.eye(3)[:1], jax.random.normal(jax.random.key(1), (1, 5)), start=0)
>>> bool(jnp.allclose(a[:, 0], b[0, :2]))    # e_1^T (W e_j) == (W^T e_1)_j
True
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


class LazyGaussian(NamedTuple):
    """What is known of one iid N(0, 1) matrix W (n_out, n_in): a pytree.

    Attributes:
      E: (n_in, right) orthonormal directions of the past right queries (zero columns
        unused).
      Y: (n_out, right) W E.
      F: (n_out, left) orthonormal directions of the past left queries.
      Z: (n_in, left) W^T F.
    """

    E: jax.Array
    Y: jax.Array
    F: jax.Array
    Z: jax.Array


def tolerance(dtype: jnp.dtype) -> float:
    """The relative residual below which a query counts as in the span of earlier ones."""
    return 1e-10 if jnp.dtype(dtype) == jnp.float64 else 1e-4


def empty(n_out: int, n_in: int, right: int, left: int,
          dtype: jnp.dtype | None = None) -> LazyGaussian:
    """Nothing known yet; room for ``right`` right and ``left`` left queries."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    return LazyGaussian(jnp.zeros((n_in, right), dtype), jnp.zeros((n_out, right), dtype),
                        jnp.zeros((n_out, left), dtype), jnp.zeros((n_in, left), dtype))


def _condition(basis: jax.Array, image: jax.Array, other_basis: jax.Array,
               other_image: jax.Array, queries: jax.Array, noise: jax.Array, start: int
               ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Answer a block of ``queries`` (rows) and append its new directions to (basis,
    image) from column ``start``; row i of ``noise`` is the i-th fresh xi.

    The block's residuals after projecting out ``basis`` (twice, as matrix products) are
    orthonormalized among themselves one by one (Gram-Schmidt, twice, in a ``lax.scan``);
    a residual below ``tolerance`` of its unit-normalized query adds no direction. Any
    orthonormal basis of the new span chosen from the queries alone gives the same law.
    """
    count = queries.shape[0]
    if noise.shape != (count, image.shape[0]):
        raise ValueError(f"noise must have shape {(count, image.shape[0])} (one fresh "
                         f"N(0, I) row per query), got {noise.shape}.")
    if start + count > basis.shape[1]:
        raise ValueError(f"{start + count} queries exceed the {basis.shape[1]} reserved; "
                         "reserve more columns in empty().")
    norms = jnp.linalg.norm(queries, axis=1)
    unit = queries / jnp.where(norms > 0, norms, 1.0)[:, None]
    c = unit @ basis
    residual = unit - c @ basis.T
    c2 = residual @ basis  # a second pass keeps the new directions orthogonal to basis
    residual, c = residual - c2 @ basis.T, c + c2
    new, within = _orthonormalize(residual, tolerance(queries.dtype))
    xi = noise.T.astype(queries.dtype)
    fresh = (other_basis @ (other_image.T @ new) + xi - other_basis @ (other_basis.T @ xi)
             ) * jnp.any(new != 0, axis=0)[None, :]  # W new, exact given everything known
    answers = norms[:, None] * (c @ image.T + within @ fresh.T)
    basis = jax.lax.dynamic_update_slice(basis, new, (0, start))
    image = jax.lax.dynamic_update_slice(image, fresh, (0, start))
    return basis, image, answers


def _orthonormalize(rows: jax.Array, tol: float) -> tuple[jax.Array, jax.Array]:
    """Orthonormal columns ``new`` (n, m) and coefficients (m, m) with
    rows[i] = sum_j coef[i, j] new[:, j] up to ``tol``; dropped directions are zero."""
    count, n = rows.shape

    def step(new: jax.Array, item: tuple[jax.Array, jax.Array]) -> tuple:
        r, slot = item
        c = new.T @ r
        r = r - new @ c
        c2 = new.T @ r
        r, c = r - new @ c2, c + c2
        rho = jnp.linalg.norm(r)
        keep = rho > tol
        e = jnp.where(keep, r / jnp.where(keep, rho, 1.0), 0.0)
        coef = c + jnp.where(keep, rho, 0.0) * jax.nn.one_hot(slot, count, dtype=r.dtype)
        return jax.lax.dynamic_update_slice(new, e[:, None], (0, slot)), coef

    return jax.lax.scan(step, jnp.zeros((n, count), rows.dtype), (rows, jnp.arange(count)))


def right(w: LazyGaussian, vs: ArrayLike, noise: jax.Array, start: int
          ) -> tuple[LazyGaussian, jax.Array]:
    """W v for each row v of ``vs`` (count, n_in), in order: the updated state and the
    answers (count, n_out). ``noise`` (count, n_out) holds iid N(0, 1) draws never used
    before; ``start`` is the number of right queries made so far."""
    vs = jnp.asarray(vs, w.E.dtype)
    E, Y, answers = _condition(w.E, w.Y, w.F, w.Z, vs, noise, start)
    return LazyGaussian(E, Y, w.F, w.Z), answers


def left(w: LazyGaussian, us: ArrayLike, noise: jax.Array, start: int
         ) -> tuple[LazyGaussian, jax.Array]:
    """W^T u for each row u of ``us`` (count, n_out), noise (count, n_in): the mirror
    image of ``right``."""
    us = jnp.asarray(us, w.F.dtype)
    F, Z, answers = _condition(w.F, w.Z, w.E, w.Y, us, noise, start)
    return LazyGaussian(w.E, w.Y, F, Z), answers
