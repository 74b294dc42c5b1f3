"""Hessian and NTK spectra at large width (App. E.3, eq. 76-84).

Loss convention: the summed MSE L(theta) = sum_{(x, y)} sum_A (f_A(x) - y_A)^2 / 2 (not the
mean), so that the Hessian splits as (eq. 77)

    H = A + B,   A = J^T J,   B = sum_{a, A} r_{aA} d^2 f_A(x_a),   r = f - y,

with J the (N k, P) Jacobian on the training set. M = identity for this loss (eq. 81), so the
nonzero eigenvalues of A are those of the (N k, N k) kernel Theta_AB(x_a, x_b) (eq. 79), and
Tr A^m = Tr Theta^m exactly. A loss averaged over N points scales every operator here by 1/N.

Every operator acts on a flat parameter vector (``jax.flatten_util.ravel_pytree`` order)
without materializing H or J: H v by forward-over-reverse differentiation, A v by one JVP
and one VJP, B v as forward-over-reverse of r . f with r held fixed. Lanczos (with full
reorthogonalization) and the Hutchinson estimator come from ``matfree``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike
from matfree import decomp, stochtrace
from tqdm.auto import tqdm

from ..nets import Network, Params
from ..ntk import ntk

OPERATORS: tuple[str, ...] = ("H", "A", "B")
MOMENTS: tuple[int, ...] = (1, 2, 3, 4)


def training_set(net: Network, x: ArrayLike, y: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """Validate inputs (N, D) and targets (N, k) (or (N,) for one output)."""
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    y = jnp.asarray(y, dtype=jnp.result_type(float))
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"x has shape {x.shape}; pass inputs of shape (N, {net.input_dim}).")
    if y.ndim == 1 and net.outputs == 1:
        y = y[:, None]
    if y.shape != (x.shape[0], net.outputs):
        raise ValueError(
            f"y has shape {y.shape}; pass targets of shape ({x.shape[0]}, {net.outputs}) "
            "(one column per network output)."
        )
    return x, y


def loss(net: Network, params: Params, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """L = sum_a |f(x_a) - y_a|^2 / 2, the summed MSE whose Hessian is eq. (77)."""
    x, y = training_set(net, x, y)
    return 0.5 * jnp.sum((net.apply(params, x) - y) ** 2)


def operator(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, which: str = "H"
) -> Callable[[jax.Array], jax.Array]:
    """The matrix-vector product v -> H v, A v or B v on flat parameter vectors (eq. 77).

    ``H``: forward-over-reverse (``jvp`` of ``grad``) of the summed MSE; ``A``: J^T (J v)
    (Gauss-Newton part); ``B``: forward-over-reverse of r . f with r = f - y held fixed.
    """
    if which not in OPERATORS:
        raise ValueError(f"which must be one of {', '.join(OPERATORS)}, got {which!r}.")
    x, y = training_set(net, x, y)
    flat, unravel = ravel_pytree(params)

    def f(p: jax.Array) -> jax.Array:
        return net.apply(unravel(p), x)

    if which == "H":
        grad = jax.grad(lambda p: 0.5 * jnp.sum((f(p) - y) ** 2))
        return lambda v: jax.jvp(grad, (flat,), (v,))[1]
    if which == "A":
        _, pullback = jax.vjp(f, flat)
        return lambda v: pullback(jax.jvp(f, (flat,), (v,))[1])[0]
    residual = jax.lax.stop_gradient(f(flat) - y)
    grad = jax.grad(lambda p: jnp.sum(residual * f(p)))
    return lambda v: jax.jvp(grad, (flat,), (v,))[1]


def as_key(seed: int | jax.Array) -> jax.Array:
    """A typed key: ``seed`` itself when it is one, else ``jax.random.key(seed)``.

    >>> as_key(3).dtype == jax.random.key(3).dtype
    True
    """
    if isinstance(seed, jax.Array) and jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    return jax.random.key(int(seed))


def num_params(params: Params) -> int:
    """P, the length of the flat parameter vector."""
    return int(ravel_pytree(params)[0].size)


@dataclasses.dataclass(frozen=True)
class TopEigenvalues:
    """The largest eigenvalues of an operator from Lanczos.

    Attributes:
      values: (k,) the top Ritz values, descending.
      bounds: (k,) residual norms |(Op - lambda) q| of their Ritz vectors (an eigenvalue lies
        within this distance of each value).
      krylov: the Krylov dimension (number of matrix-vector products).
    """

    values: np.ndarray
    bounds: np.ndarray
    krylov: int


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _ritz(net: Network, which: str, krylov: int, params: Params, x: jax.Array, y: jax.Array,
          start: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Lanczos from ``start`` (matfree, full reorthogonalization): the Ritz values, their
    quadrature weights (first components squared) and residual bounds."""
    matvec = operator(net, params, x, y, which)
    tridiag = decomp.tridiag_sym(krylov, reortho="full", custom_vjp=False)
    _, tri, residual, _ = tridiag(matvec, start)
    ritz, vectors = jnp.linalg.eigh(tri)
    return ritz, vectors[0] ** 2, jnp.linalg.norm(residual) * jnp.abs(vectors[-1])


def top_eigenvalues(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, k: int, which: str = "H",
    krylov: int | None = None, seed: int | jax.Array = 0,
) -> TopEigenvalues:
    """The k largest eigenvalues of H (or A, B) by Lanczos with full reorthogonalization.

    ``krylov`` (default min(P, 2k + 20)) matrix-vector products from a random start vector
    drawn with ``seed`` (an int or a typed key); the residual bounds tell whether they
    converged.
    """
    x, y = training_set(net, x, y)
    size = num_params(params)
    krylov = min(size, 2 * k + 20) if krylov is None else krylov
    if not 0 < k <= krylov <= size:
        raise ValueError(
            f"need 0 < k <= krylov <= P; got k={k}, krylov={krylov}, P={size}. "
            "Lower k or raise krylov (at most the number of parameters)."
        )
    start = jax.random.normal(as_key(seed), (size,), x.dtype)
    ritz, _, bounds = _ritz(net, which, krylov, params, x, y, start)
    order = np.argsort(np.asarray(ritz))[::-1][:k]
    return TopEigenvalues(np.asarray(ritz)[order], np.asarray(bounds)[order], krylov)


def ntk_matrix(net: Network, params: Params, x: ArrayLike) -> np.ndarray:
    """Theta_AB(x_a, x_b) as an (N k, N k) matrix, rows ordered (a, A) (eq. 83)."""
    theta = np.asarray(ntk(net, params, x))
    if net.outputs == 1:
        return theta
    n, k = theta.shape[0], net.outputs
    return theta.transpose(0, 2, 1, 3).reshape(n * k, n * k)


def ntk_eigenvalues(net: Network, params: Params, x: ArrayLike) -> np.ndarray:
    """The N k eigenvalues of the training-set NTK Theta_AB, descending (eq. 79, 83)."""
    return np.linalg.eigvalsh(ntk_matrix(net, params, x))[::-1]


def class_blocks(net: Network, params: Params, x: ArrayLike) -> np.ndarray:
    """Theta_AB summed over the training set, (k, k): -> delta_AB Tr(Theta) at large width."""
    theta = np.asarray(ntk(net, params, x))
    if net.outputs == 1:
        return np.trace(theta).reshape(1, 1)
    return np.einsum("aaAB->AB", theta)


@dataclasses.dataclass(frozen=True)
class Moments:
    """Hutchinson estimates of Tr Op^m for m = 1..4 (eq. 78-82), each with its standard error.

    Attributes:
      orders: (4,) the powers m = 1, 2, 3, 4.
      trace: dict operator name ("H", "A", "B", "H-A") -> (4,) estimates of Tr Op^m
        ("H-A": Tr H^m - Tr A^m from the same probes, a far less noisy estimate of the
        difference than two separate ones).
      stderr: the same keys -> (4,) standard errors over probes.
      probes: the number of Rademacher probe vectors.
    """

    orders: np.ndarray
    trace: dict[str, np.ndarray]
    stderr: dict[str, np.ndarray]
    probes: int


def _powers(matvec: Callable[[jax.Array], jax.Array], v: jax.Array) -> jax.Array:
    """v^T Op^m v for m = 1..4 from two products: v.Ov, |Ov|^2, Ov.O^2v, |O^2v|^2."""
    first = matvec(v)
    second = matvec(first)
    return jnp.stack([v @ first, first @ first, first @ second, second @ second])


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _probe_chunk(net: Network, which: tuple[str, ...], chunk: int, params: Params,
                 x: jax.Array, y: jax.Array, key: jax.Array) -> dict[str, jax.Array]:
    ops = {name: operator(net, params, x, y, name) for name in which}

    def integrand(_, v):
        q = {name: _powers(op, v) for name, op in ops.items()}
        if "H" in q and "A" in q:
            q["H-A"] = q["H"] - q["A"]
        return {"mean": q, "square": jax.tree.map(jnp.square, q)}

    like = jnp.zeros(num_params(params), x.dtype)
    sampler = stochtrace.sampler_signs(like, num=chunk)
    return stochtrace.estimator_monte_carlo(integrand, sampler)(None, key)


def hutchinson_moments(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, probes: int = 1000,
    which: tuple[str, ...] = OPERATORS, chunk: int = 50, seed: int | jax.Array = 0,
    progress: bool = False,
) -> Moments:
    """Tr H^m, Tr A^m, Tr B^m (m = 1..4) by Hutchinson's estimator v^T Op^m v, E[v v^T] = 1.

    Probes are Rademacher vectors drawn from ``seed`` (an int or a typed key), ``chunk`` at
    a time (each chunk holds ``chunk`` x P numbers); standard errors are the sample standard
    deviation over probes divided by sqrt(probes).
    """
    x, y = training_set(net, x, y)
    unknown = set(which) - set(OPERATORS)
    if unknown or not which:
        raise ValueError(f"which must name operators from {OPERATORS}, got {which!r}.")
    if probes < 2 or chunk < 1:
        raise ValueError(f"need probes >= 2 and chunk >= 1; got probes={probes}, chunk={chunk}.")
    chunk = min(chunk, probes)
    count = -(-probes // chunk)
    keys = jax.random.split(as_key(seed), count)
    parts = [_probe_chunk(net, tuple(which), chunk, params, x, y, key)
             for key in tqdm(keys, desc="Hutchinson probes", disable=not progress)]
    total = count * chunk
    trace, stderr = {}, {}
    for name in parts[0]["mean"]:
        mean = np.mean([np.asarray(p["mean"][name]) for p in parts], axis=0)
        square = np.mean([np.asarray(p["square"][name]) for p in parts], axis=0)
        variance = np.maximum(square - mean**2, 0.0) * total / (total - 1)
        trace[name], stderr[name] = mean, np.sqrt(variance / total)
    return Moments(np.asarray(MOMENTS), trace, stderr, total)


def exact_moments(eigenvalues: ArrayLike) -> np.ndarray:
    """Tr Op^m = sum_i lambda_i^m for m = 1..4 from eigenvalues (Theta's, eq. 79)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return np.array([np.sum(lam**m) for m in MOMENTS])


@dataclasses.dataclass(frozen=True)
class SpectralDensity:
    """Stochastic Lanczos quadrature of an operator's eigenvalue density.

    Attributes:
      grid: (G,) eigenvalue grid.
      density: (G,) the Gaussian-broadened density (integrates to ~1 over the spectrum).
      nodes: (probes, m) Ritz values of each probe's Lanczos run.
      weights: (probes, m) their quadrature weights (each row sums to 1).
      sigma: the broadening width.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float


def spectral_density(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, grid: ArrayLike,
    which: str = "H", krylov: int = 60, probes: int = 4, sigma: float | None = None,
    seed: int | jax.Array = 0,
) -> SpectralDensity:
    """Eigenvalue density of H (or A, B) by stochastic Lanczos quadrature.

    Each of ``probes`` Rademacher vectors v gives ``krylov`` Ritz values theta_j with weights
    (e_1 . s_j)^2 such that v^T g(Op) v / P ~ sum_j w_j g(theta_j); the density is their mean
    broadened by Gaussians of width ``sigma`` (default: two grid spacings).
    """
    x, y = training_set(net, x, y)
    grid = np.asarray(grid, dtype=np.float64)
    size = num_params(params)
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError("grid must be a 1-d array of at least two eigenvalue points.")
    if not 0 < krylov <= size:
        raise ValueError(f"krylov must lie in 1..P={size}, got {krylov}.")
    sigma = float(2 * (grid[1] - grid[0])) if sigma is None else float(sigma)
    keys = jax.random.split(as_key(seed), probes)
    results = [_ritz(net, which, krylov, params, x, y,
                     jax.random.rademacher(key, (size,), x.dtype)) for key in keys]
    nodes = np.stack([np.asarray(r[0]) for r in results])
    weights = np.stack([np.asarray(r[1]) for r in results])
    kernel = np.exp(-0.5 * ((grid[:, None] - nodes.reshape(1, -1)) / sigma) ** 2)
    density = kernel @ weights.reshape(-1) / (probes * sigma * np.sqrt(2 * np.pi))
    return SpectralDensity(grid, density, nodes, weights, sigma)
