"""Hessian and NTK spectra at large width (App. E.3, eq. 76-84).

Loss convention: the summed MSE L(theta) = sum_{(x, y)} sum_A (f_A(x) - y_A)^2 / 2 (not the
mean), so that the Hessian splits as (eq. 77)

    H = A + B,   A = J^T J,   B = sum_{a, A} r_{aA} d^2 f_A(x_a),   r = f - y,

with J the (N k, P) Jacobian on the training set. M = identity for this loss (eq. 81), so the
nonzero eigenvalues of A are those of the (N k, N k) kernel Theta_AB(x_a, x_b) (eq. 79), and
Tr A^m = Tr Theta^m exactly. A loss averaged over N points scales every operator here by 1/N.

Every operator acts on a flat parameter vector (``jax.flatten_util.ravel_pytree`` order)
without materializing H or J: H v by forward-over-reverse differentiation, A v by one JVP
and one VJP, B v as forward-over-reverse of r . f with r held fixed. Top eigenvalues come
from ARPACK's implicitly restarted Lanczos (scipy ``eigsh``), each certified by its explicit
residual and its gap; SLQ and the Hutchinson estimator come from ``matfree``.
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

from ..config import tqdm
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


#: A Ritz value is resolved when its residual bound is below this fraction of its gap.
RESOLUTION = 0.1


@dataclasses.dataclass(frozen=True)
class TopEigenvalues:
    """The largest eigenvalues of a symmetric operator, each with its certificate.

    For a symmetric operator and a unit vector v, an eigenvalue lies within
    r = |Op v - lambda v| of lambda (and within r^2 / gap once r < gap, Davis-Kahan).

    Attributes:
      values: (k,) the top Ritz values, descending.
      bounds: (k,) their residual norms |Op v_i - lambda_i v_i|, computed explicitly after
        the solve (not ARPACK's estimate).
      gaps: (k,) each value's distance to the nearest other computed Ritz value.
      resolved: (k,) bound < ``RESOLUTION`` x gap: the value is certified as one eigenvalue.
      products: the matrix-vector products the solve took.
      krylov: the Lanczos basis size (ARPACK's ncv).
    """

    values: np.ndarray
    bounds: np.ndarray
    gaps: np.ndarray
    resolved: np.ndarray
    products: int
    krylov: int


def neighbour_gaps(values: ArrayLike) -> np.ndarray:
    """Each value's distance to its nearest neighbour in ``values`` (inf when alone).

    >>> neighbour_gaps([3.0, 2.0, 1.5]).tolist()
    [1.0, 0.5, 0.5]
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    order = np.argsort(np.argsort(np.asarray(values, dtype=np.float64)))
    step = np.diff(v)
    gap = np.minimum(np.concatenate([[np.inf], step]), np.concatenate([step, [np.inf]]))
    return gap[order]


def certified_top(
    matvec: Callable[[np.ndarray], np.ndarray], size: int, k: int, krylov: int,
    start: np.ndarray, tol: float, guard: int = 2, maxiter: int | None = None,
) -> tuple[TopEigenvalues, np.ndarray]:
    """The k largest eigenpairs of a symmetric operator (``matvec`` on float64 vectors of
    length ``size``) by ARPACK's implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``),
    each certified by its explicit residual |Op v - lambda v| and its gap.

    ``k + guard`` pairs are computed so that the k-th value has a neighbour below it; a pair
    ARPACK does not converge within ``maxiter`` restarts comes back with value nan, bound inf
    and unresolved. Returns the result and the (size, k) unit Ritz vectors.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    want = min(k + guard, size - 1)
    krylov = min(max(krylov, 2 * want + 1), size)
    products = 0

    def counted(v: np.ndarray) -> np.ndarray:
        nonlocal products
        products += 1
        return np.asarray(matvec(np.asarray(v).ravel()), dtype=np.float64)

    op = LinearOperator((size, size), matvec=counted, dtype=np.float64)
    try:
        values, vectors = eigsh(op, k=want, which="LA", ncv=krylov, v0=start, tol=tol,
                                maxiter=maxiter or 100 * size)
    except ArpackNoConvergence as err:
        values, vectors = err.eigenvalues, err.eigenvectors
    order = np.argsort(values)[::-1]
    values, vectors = np.asarray(values)[order], np.asarray(vectors)[:, order]
    vectors = vectors / np.linalg.norm(vectors, axis=0)
    bounds = np.array([np.linalg.norm(counted(v) - lam * v)
                       for lam, v in zip(values, vectors.T, strict=True)])
    gaps = neighbour_gaps(values)
    missing = k - min(k, values.size)
    values = np.concatenate([values[:k], np.full(missing, np.nan)])
    bounds = np.concatenate([bounds[:k], np.full(missing, np.inf)])
    gaps = np.concatenate([gaps[:k], np.full(missing, np.nan)])
    vectors = np.concatenate([vectors[:, :k], np.full((size, missing), np.nan)], axis=1)
    result = TopEigenvalues(values, bounds, gaps, bounds < RESOLUTION * gaps, products, krylov)
    return result, vectors


def default_tolerance(dtype: jnp.dtype) -> float:
    """ARPACK's relative tolerance for an operator evaluated in ``dtype``: a few hundred
    rounding units (a product in float32 carries relative errors ~ 1e-7)."""
    return float(300 * jnp.finfo(dtype).eps)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _product(net: Network, which: str, params: Params, x: jax.Array, y: jax.Array,
             v: jax.Array) -> jax.Array:
    """Op v, compiled once per network shape (params are arguments, not constants)."""
    return operator(net, params, x, y, which)(v)


@functools.partial(jax.jit, static_argnums=0)
def _jacobian_product(net: Network, params: Params, x: jax.Array, v: jax.Array) -> jax.Array:
    """J v on the training set, rows (a, A), compiled once per network shape."""
    flat, unravel = ravel_pytree(params)
    return jax.jvp(lambda p: net.apply(unravel(p), x).reshape(-1), (flat,), (v,))[1]


def top_eigenpairs(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, k: int, which: str = "H",
    krylov: int | None = None, seed: int | jax.Array = 0, tol: float | None = None,
) -> tuple[TopEigenvalues, np.ndarray]:
    """The k largest eigenpairs of H (or A, B) with their certificates (``certified_top``).

    ``krylov`` (default 2k + 20, at most P) is the Lanczos basis size; the start vector is
    drawn with ``seed`` (an int or a typed key); ``tol`` is ARPACK's relative tolerance
    (default ``default_tolerance`` of the package dtype). Products run jitted in the
    package dtype; H is never formed.
    """
    x, y = training_set(net, x, y)
    size = num_params(params)
    krylov = min(size, 2 * k + 20) if krylov is None else krylov
    if not 0 < k <= krylov <= size or k >= size:
        raise ValueError(
            f"need 0 < k <= krylov <= P and k < P; got k={k}, krylov={krylov}, P={size}. "
            "Lower k or raise krylov (at most the number of parameters)."
        )
    start = np.asarray(jax.random.normal(as_key(seed), (size,), x.dtype), dtype=np.float64)
    # rounding to the package dtype in numpy: an eager jnp conversion costs more than a product
    return certified_top(lambda v: _product(net, which, params, x, y, v.astype(x.dtype)),
                         size, k, krylov, start,
                         default_tolerance(x.dtype) if tol is None else tol)


def top_eigenvalues(
    net: Network, params: Params, x: ArrayLike, y: ArrayLike, k: int, which: str = "H",
    krylov: int | None = None, seed: int | jax.Array = 0, tol: float | None = None,
) -> TopEigenvalues:
    """The k largest eigenvalues of H (or A, B), certified (``top_eigenpairs`` without the
    vectors)."""
    return top_eigenpairs(net, params, x, y, k, which, krylov, seed, tol)[0]


def theta_overlaps(net: Network, params: Params, x: ArrayLike, vectors: ArrayLike
                   ) -> tuple[np.ndarray, np.ndarray]:
    """How much of each unit vector v lies in the row space of J, and along which
    eigenvector of Theta.

    With Theta = J J^T = U diag(theta) U^T, the projector on J's row space is
    P_J = J^T Theta^-1 J, so |P_J v|^2 = sum_j c_j^2 with c_j = u_j . (J v) / sqrt(theta_j):
    one JVP per vector, J and H never formed. Returns (|P_J v|^2 per vector, the index j of
    Theta's eigenvalue (descending order) carrying the largest c_j^2).
    """
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    theta, u = np.linalg.eigh(ntk_matrix(net, params, x))
    theta, u = theta[::-1], u[:, ::-1]
    keep = theta > theta[0] * 1e-10
    vectors = np.asarray(vectors, dtype=np.float64)
    jv = np.stack([np.asarray(_jacobian_product(net, params, x, v.astype(x.dtype)),
                              dtype=np.float64) for v in vectors.T], axis=1)
    c2 = np.where(keep[:, None], (u.T @ jv) ** 2 / np.where(keep, theta, 1.0)[:, None], 0.0)
    return c2.sum(axis=0), np.argmax(c2, axis=0)


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


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _ritz(net: Network, which: str, krylov: int, params: Params, x: jax.Array, y: jax.Array,
          start: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Lanczos from ``start`` (matfree, full reorthogonalization): the Ritz values and their
    quadrature weights (first components squared)."""
    matvec = operator(net, params, x, y, which)
    tridiag = decomp.tridiag_sym(krylov, reortho="full", custom_vjp=False)
    _, tri, _, _ = tridiag(matvec, start)
    ritz, vectors = jnp.linalg.eigh(tri)
    return ritz, vectors[0] ** 2


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
