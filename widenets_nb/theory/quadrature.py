"""Gaussian expectations in m <= 4 dimensions: pivoted Cholesky and per-axis 1-D rules.

For z ~ N(0, K) with K an (m, m) positive semi-definite matrix, z = P^T L zeta with P the
permutation of greedy pivoting (the input with the largest conditional variance first, so
the diagonal of L is non-increasing), L the Cholesky factor of P K P^T (``factor``: pivots
below ``JITTER`` max_a K_aa count as 0, so coinciding inputs, exactly degenerate kernels
and kernels rounding left slightly indefinite work) and zeta on a tensor product of 1-D
rules, one per axis (``AXES``). The
triangular factor makes s(z_(1)) a function of zeta_1 alone, s(z_(2)) of zeta_1, zeta_2,
and so on: integrating the innermost axis first, axis j sees the singularities of
s(L_jj zeta_j + const) times functions that are entire in zeta_j, so its error is the 1-D
error of the activation at scale L_jj. Nodes whose product weight is below ``PRUNE``
(the weights sum to 1) are dropped (the degree-4 Wick moment keeps 1e-11).

1-D rules. A saturating activation (tanh: poles at +-i pi / 2) is analytic only in a strip
|Im zeta| < pi / (2 L), where Gauss-Hermite converges like exp(-pi sqrt(p) / L) in its p
points but the truncated trapezoid rule (step h, |zeta| <= ``EXTENT``) like
exp(-pi^2 / (L h)) (Trefethen & Weideman 2014, SIAM Review 56): for
<tanh(L zeta + 0.3)^2> at L = 1.5, 96 Gauss-Hermite points leave 1e-7, 57 trapezoid points
(h = 0.3) 3e-8. The first (widest) axis therefore uses the trapezoid rule; the later axes,
whose scales L_jj are conditional standard deviations (small for correlated inputs), use
Gauss-Hermite where it suffices (exact for polynomials of degree 2p - 1). A float in a
rule is a trapezoid step, an int a number of Gauss-Hermite points.

Rules. ``LADDER`` lists, per dimension, rules from the cheapest to the finest; ``choose``
(host side, once per layer of the recursions) takes for each dimension the first whose
per-axis ``reach`` covers the pivoted Cholesky diagonal of every sub-kernel of that size,
the reach being where tanh, the hardest of the smooth activations, is integrated to ~1e-9
in 1-D. ``AXES`` is the default of ``nodes`` and ``expectation`` (no kernel-dependent
choice). The reach is a fit: at p <= 12 Gauss-Hermite points it is optimistic (~1e-8 at
the bound), which the other axes' margins absorb in the tests below.

Accuracy (tested in ``tests/test_theory.py``, tabulated in ``benchmarks/results/theory.md``):
- 1-D and 2-D (``AXES``): erf x erf against its arcsine closed form below 1e-11 for
  K_aa <= 5;
- 4-D (the rule ``choose`` takes): sin^4, cos^4 (exp(-s.K.s / 2) sums) and z_1 z_2 z_3 z_4
  (Wick) below 1e-11;
- 3-D and 4-D (the rule ``choose`` takes): tanh, gelu, erf products below 1e-8 relative
  against a rule with L_jj h_j = 0.3 on every axis, for the tables' default inputs
  (pivoted Cholesky diagonal 1.44, 0.87, 0.42, 0.12), the same scaled by 0.3 (a deeper
  tanh layer) and by s_w^2 = 1.69, and four inputs of norm 1 at correlation 0.2 (diagonal
  ~1 on every axis, where the default 4-D rule is 1e-3 off and ``choose`` takes the
  finest).
The reach of the first axis (trapezoid h = 0.22: L_11 <= 1.71, K_aa <= 2.9) bounds the
claim for tanh; beyond it the error grows like exp(-pi^2 / (L_11 h)) (5e-9 in 1-D at
L = 2); erf, gelu and sin, entire, stay far below 1e-8 there.
"""

from __future__ import annotations

import itertools
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np

#: per-axis 1-D rules for m = 1..4 dimensions (module docstring), widest axis first, from
#: the cheapest to the finest; ``choose`` takes the first that reaches a kernel's scales.
LADDER: dict[int, tuple[tuple[float | int, ...], ...]] = {
    1: ((0.2,), (0.1,)), 2: ((0.3, 0.3), (0.15, 0.15)),
    3: ((0.3, 24, 16), (0.2, 48, 24), (0.2, 0.35, 0.35)),
    4: ((0.3, 24, 16, 12), (0.22, 40, 20, 10), (0.22, 64, 32, 16), (0.22, 0.35, 0.35, 0.35))}
#: the default rules (``nodes`` without ``axes``; no kernel-dependent choice): 1-D and 2-D
#: reach L_jj <= 3.7 and 2.5, 3-D and 4-D the tables' default inputs.
AXES: dict[int, tuple[float | int, ...]] = {
    1: (0.1,), 2: (0.15, 0.15), 3: (0.2, 48, 24), 4: (0.22, 40, 20, 10)}
#: the largest scale L_jj an axis integrates tanh(L_jj zeta + c) on to ~1e-9 relative:
#: L h <= 0.377 for the trapezoid step h, L <= 0.121 sqrt(p) for p Gauss-Hermite points
#: (fits of exp(-pi^2 / (L h)) and exp(-pi sqrt(p) / L) with their prefactors, 250 and 170,
#: to 1-D errors at L = 1, 1.5, 2).
TRAPEZOID_REACH = 0.377
HERMITE_REACH = 0.121
#: nodes per axis of the ``AXES`` rules (before pruning).
POINTS: dict[int, tuple[int, ...]] = {}
#: trapezoid rules cover |zeta| <= EXTENT (standard-normal density 1e-18 of its peak there).
EXTENT = 9.0
PRUNE = 1e-20
JITTER = 1e-13


def one_d(spec: float | int) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal nodes and weights (summing to 1) of one axis: a float is the step of
    the truncated trapezoid rule, an int the number of Gauss-Hermite points."""
    if isinstance(spec, int | np.integer):
        z, w = np.polynomial.hermite_e.hermegauss(int(spec))
    else:
        z = np.arange(-np.floor(EXTENT / spec), np.floor(EXTENT / spec) + 1) * spec
        w = np.exp(-z**2 / 2)
    return z, w / w.sum()


@cache
def grid(m: int, axes: tuple[float | int, ...] | int | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal nodes (P, m) and weights (P,) of the pruned m-dimensional rule:
    ``axes`` per-axis specs (``one_d``), an int for that many Gauss-Hermite points on every
    axis (polynomial integrands), None for ``AXES[m]``."""
    if m not in AXES:
        raise ValueError(f"the Gaussian quadrature supports 1..4 dimensions, got {m}.")
    specs = AXES[m] if axes is None else (axes,) * m if isinstance(axes, int) else axes
    if len(specs) != m:
        raise ValueError(f"{m} dimensions need {m} per-axis rules, got {specs}.")
    rules = [one_d(spec) for spec in specs]
    nodes = np.stack(np.meshgrid(*[z for z, _ in rules], indexing="ij"), -1).reshape(-1, m)
    weights = np.prod(np.stack(np.meshgrid(*[w for _, w in rules], indexing="ij"), -1)
                      .reshape(-1, m), axis=1)
    keep = weights > PRUNE
    return nodes[keep], weights[keep]


def factor(k: jax.Array) -> jax.Array:
    """F = P^T L (m, m) with F F^T = k: the pivoted Cholesky factor, column j that of the
    j-th pivot (the remaining input with the largest conditional variance). Pivots below
    ``JITTER`` max_a K_aa are taken as 0 (their columns vanish), so coinciding inputs and
    kernels that rounding left slightly indefinite work."""
    m = k.shape[-1]
    floor = JITTER * jnp.max(jnp.diagonal(k))
    schur, free, cols = k, jnp.ones(m, bool), []
    for _ in range(m):
        e = jax.nn.one_hot(jnp.argmax(jnp.where(free, jnp.diagonal(schur), -jnp.inf)), m,
                           dtype=k.dtype)
        col = schur @ e
        pivot = col @ e
        keep = pivot > floor
        c = jnp.where(keep, col / jnp.sqrt(jnp.where(keep, pivot, 1.0)), 0.0)
        schur = schur - jnp.outer(c, c)
        free = free & (e == 0)
        cols.append(c)
    return jnp.stack(cols, axis=1)


def columns(k: jax.Array, axes: tuple[float | int, ...] | int | None = None
            ) -> tuple[jax.Array, jax.Array]:
    """Nodes z (m, P) distributed as N(0, k) under the weights (P,), for an (m, m) ``k``
    (``axes`` as for ``grid``); one row per input, the layout elementwise integrands
    evaluate fastest."""
    zeta, w = _transposed(k.shape[-1], axes)
    return factor(k) @ jnp.asarray(zeta, k.dtype), jnp.asarray(w, k.dtype)


@cache
def _transposed(m: int, axes: tuple[float | int, ...] | int | None
                ) -> tuple[np.ndarray, np.ndarray]:
    zeta, w = grid(m, axes)
    return np.ascontiguousarray(zeta.T), w


def nodes(k: jax.Array, axes: tuple[float | int, ...] | int | None = None
          ) -> tuple[jax.Array, jax.Array]:
    """Nodes z (P, m) distributed as N(0, k) under the weights (P,) (``columns``)."""
    z, w = columns(k, axes)
    return z.T, w


def expectation(fn, k: jax.Array, axes: tuple[float | int, ...] | int | None = None
                ) -> jax.Array:
    """E[fn(z)] for z ~ N(0, k); ``fn`` maps (P, m) nodes to (P, ...) values."""
    z, w = nodes(k, axes)
    return jnp.tensordot(w, fn(z), axes=1)


POINTS.update({m: tuple(len(one_d(spec)[0]) for spec in specs) for m, specs in AXES.items()})


def reach(axes: tuple[float | int, ...]) -> np.ndarray:
    """The largest L_jj each axis of a rule takes (``TRAPEZOID_REACH``, ``HERMITE_REACH``)."""
    return np.array([HERMITE_REACH * np.sqrt(a) if isinstance(a, int | np.integer)
                     else TRAPEZOID_REACH / a for a in axes])


def scales(k: np.ndarray) -> np.ndarray:
    """The diagonal of the pivoted Cholesky factor of ``k`` (m, m), non-increasing (host)."""
    schur, out = np.array(k, dtype=np.float64), []
    free = np.ones(len(schur), bool)
    floor = JITTER * np.max(np.diagonal(schur))
    for _ in range(len(schur)):
        j = int(np.argmax(np.where(free, np.diagonal(schur), -np.inf)))
        pivot = schur[j, j] if schur[j, j] > floor else 0.0
        out.append(np.sqrt(pivot))
        if pivot > 0:
            schur = schur - np.outer(schur[:, j], schur[j]) / pivot
        free[j] = False
    return np.array(out)


def choose(ks: np.ndarray) -> tuple[tuple[float | int, ...], ...]:
    """The rules for supports of 1..m inputs, for a batch of kernels ``ks`` (B, m, m): in
    each dimension the first rung of ``LADDER`` whose ``reach`` covers the ``scales`` of
    every sub-kernel of that size (the finest if none does)."""
    ks = np.asarray(ks, dtype=np.float64).reshape((-1,) + np.shape(ks)[-2:])
    m = ks.shape[-1]
    out = []
    for size in range(1, m + 1):
        rungs = LADDER[size]
        need = 0
        if len(rungs) > 1:
            for support in itertools.combinations(range(m), size):
                for k in ks[:, support][:, :, support]:
                    fits = [np.all(scales(k) <= reach(r)) for r in rungs]
                    need = max(need, fits.index(True) if any(fits) else len(rungs) - 1)
        out.append(rungs[need])
    return tuple(out)


def describe() -> str:
    """One line naming the rules, for reports."""
    return ("pivoted Cholesky, per-axis rules (trapezoid step or Gauss-Hermite points), the "
            "first that reaches the kernel's scales of " + "; ".join(
                f"{m}-D {' or '.join(map(str, rungs))}" for m, rungs in LADDER.items()))
