"""One network, one measurement (App. E.3): the MNIST setup, seeded instances, cached
training, and the eigenvalue, moment and density measurements of Figs. 9-10.

Every random draw derives from one seed: instance ``i`` at width ``n`` draws its
initialization and its probes (Lanczos start, Hutchinson or SLQ vectors) from
``instance_keys(seed, n, i)``, so no two instances, widths or seeds share a stream. Each
measurement of an instance (its training, then the measurement) is cached with every
parameter in the key (the dtype included), so a repeated call answers at once.

``setup(..., gram=True)`` replaces the N images by the N-dimensional inputs of
``training.experiments.gram_inputs`` (the same scaled Gram matrix x_a.x_b / D): with the first
layer U ~ iid N(0, 1), x / sqrt(D) = (L / sqrt(N)) Q^T (Q orthonormal, D x N) makes the network
on x the network on L with first layer U Q, again iid N(0, 1), and the directions of U
orthogonal to the data span carry no gradient and no curvature. So f, Theta, J's row space
and the nonzero spectrum of H (B's included) have exactly the same joint law on L as on the
images, while the first layer shrinks from n D to n N parameters (``test_spectra_gram``
checks the identity at one network to rtol 1e-8).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from .. import dynamics
from ..cache import cached
from ..data import load_mnist
from ..nets import Network, Params
from ..training.experiments import gram_inputs
from . import solvers
from .protocols import ExplorerProtocol

DIGITS = {2: (0, 1), 3: (0, 1, 2)}

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Setup:
    """A network on an MNIST subset: everything one spectral measurement needs.

    Attributes:
      net: the network (input scaling on, one output per class beyond two).
      x: (N, 784) training images, or (N, N) ``gram_inputs`` of them.
      y: (N, k) targets (+-1 for two classes, one-hot for three).
    """

    net: Network
    x: np.ndarray
    y: np.ndarray


def setup(width: int, depth: int = 2, activation: str = "relu", classes: int = 2,
          per_class: int = 10, seed: int = 0, gram: bool = False) -> Setup:
    """The paper's MNIST network and training set (App. A.2): ``classes`` in {2, 3}, the
    images drawn with ``seed``; ``gram``: on their N-dimensional ``gram_inputs`` instead
    (the same law of f, Theta and H's nonzero spectrum, see the module docstring)."""
    if classes not in DIGITS:
        raise ValueError(f"classes must be 2 or 3 (two- or three-class MNIST), got {classes}.")
    data = load_mnist(DIGITS[classes], per_class, "train", seed)
    x = gram_inputs(data.x) if gram else data.x
    net = Network(input_dim=x.shape[1], width=width, depth=depth, activation=activation,
                  input_scaling=True, outputs=data.y.shape[1])
    return Setup(net, x, data.y)


def instance_keys(seed: int, *path: int) -> tuple[jax.Array, jax.Array]:
    """The (initialization, measurement) keys of one instance: ``key(seed)`` folded with
    ``path`` (e.g. width, index) and split in two, so no two instances share a stream.

    >>> init, probes = instance_keys(0, 64, 1)
    >>> bool((jax.random.key_data(init) != jax.random.key_data(instance_keys(1, 64, 0)[0])).any())
    True
    """
    key = jax.random.key(seed)
    for part in path:
        key = jax.random.fold_in(key, part)
    init, measure = jax.random.split(key)
    return init, measure


def learning_rate(s: Setup, params: Params) -> float:
    """A safe GD step for the summed MSE: 0.5 / lambda_max(Theta_0), four times below the
    stability limit 2 / lambda_max of the linearized dynamics (narrow nets need the margin)."""
    return float(0.5 / solvers.ntk_eigenvalues(s.net, params, s.x)[0])


def trained(s: Setup, params: Params, steps: int, learning_rate: float) -> Params:
    """Parameters after ``steps`` of full-batch GD on the summed MSE (``dynamics.train``)."""
    train = dynamics.TrainConfig(learning_rate=learning_rate, steps=steps, optimizer="gd",
                                 loss="sum", record_steps=(steps,))
    return dynamics.train(s.net, params, s.x, s.y, train).params


def _identity(s: Setup, keys: Sequence[jax.Array], steps: int) -> dict[str, Any]:
    """Everything that fixes one instance, for a cache key (the dtype included)."""
    return {"net": s.net, "x": s.x, "y": s.y, "steps": steps,
            "keys": [np.asarray(jax.random.key_data(k)) for k in keys],
            "dtype": str(jnp.result_type(float))}


def network(s: Setup, key: jax.Array, steps: int = 0) -> Params:
    """The initialization drawn from ``key``, after ``steps`` of GD at ``learning_rate``
    (training is cached: a repeated call answers at once)."""
    init = s.net.sample(key)
    if not steps:
        return init
    entry = cached("spectra-trained", _identity(s, [key], steps),
                   lambda: trained(s, init, steps, learning_rate(s, init)))
    return {name: jnp.asarray(value) for name, value in entry.items()}


def measured(name: str, kind: type[T], s: Setup, keys: tuple[jax.Array, jax.Array],
              steps: int, settings: Mapping[str, Any],
              measure: Callable[[Params, jax.Array], T]) -> T:
    """``measure(params, key)`` on instance ``keys`` after ``steps`` of GD, cached by
    every parameter; ``kind`` is the frozen result type it returns."""
    init, key = keys

    def compute() -> dict[str, Any]:
        return dataclasses.asdict(measure(network(s, init, steps), key))

    entry = cached(name, {**_identity(s, keys, steps), **settings}, compute)
    return kind(**{f.name: entry[f.name] for f in dataclasses.fields(kind)})


# ------------------------------------------------------------------------ measurements


#: An eigenvector of H pairs with Theta when more than this share of it lies in J's row space.
PAIRED = 0.5


@dataclasses.dataclass(frozen=True)
class TopComparison:
    """Eq. (76): the certified top eigenvalues of H against those of Theta at one network.

    Attributes:
      hessian: (k,) Ritz values of H, descending.
      theta: (N k,) all eigenvalues of Theta, descending (exact).
      bounds: (k,) residual norms |H v - lambda v|: an eigenvalue of H lies within each.
      gaps: (k,) each Ritz value's distance to its nearest computed neighbour.
      resolved: (k,) bound < 0.1 gap (``solvers.RESOLUTION``): certified single eigenvalues.
      overlaps: (k,) |P_J v|^2, the share of each eigenvector in the row space of J.
      matched: (k,) index (descending) of the eigenvalue of Theta each eigenvector leans on.
    """

    hessian: np.ndarray
    theta: np.ndarray
    bounds: np.ndarray
    gaps: np.ndarray
    resolved: np.ndarray
    overlaps: np.ndarray
    matched: np.ndarray

    @property
    def paired(self) -> np.ndarray:
        """(k,) resolved eigenvalues of H whose eigenvector lies mostly (> ``PAIRED``) in
        J's row space: the copies of Theta's eigenvalues (the rest belong to B's cluster)."""
        return np.asarray(self.resolved, bool) & (np.asarray(self.overlaps) > PAIRED)

    @property
    def top(self) -> float:
        """|lambda_1(H) - lambda_1(Theta)| (nan unless lambda_1(H) is resolved)."""
        if not self.resolved[0]:
            return float("nan")
        return float(abs(self.hessian[0] - self.theta[0]))

    @property
    def mean(self) -> float:
        """The mean |lambda_i(H) - lambda_i(Theta)| over the k compared, in order (the
        paper's summary; nan unless all k are resolved)."""
        if not np.all(self.resolved):
            return float("nan")
        k = len(self.hessian)
        return float(np.mean(np.abs(np.asarray(self.hessian) - np.asarray(self.theta)[:k])))

    @property
    def paired_gap(self) -> float:
        """The mean |lambda_i(H) - lambda_j(i)(Theta)| over the paired eigenvalues, each
        against the eigenvalue of Theta its eigenvector leans on (nan when none pairs)."""
        paired = self.paired
        if not paired.any():
            return float("nan")
        theta = np.asarray(self.theta)[np.asarray(self.matched)[paired]]
        return float(np.mean(np.abs(np.asarray(self.hessian)[paired] - theta)))


def eigenvalue_gaps(s: Setup, params: Params, count: int | None = None,
                    krylov: int | None = None, seed: int | jax.Array = 0) -> TopComparison:
    """Eq. (76): the top ``count`` (default N x classes) eigenvalues of H, certified
    (``solvers.top_eigenpairs``, Lanczos basis ``krylov``, start from ``seed``), against
    those of Theta, with each eigenvector's share in J's row space (``theta_overlaps``)."""
    count = count or s.y.size
    theta = solvers.ntk_eigenvalues(s.net, params, s.x)
    top, vectors = solvers.top_eigenpairs(s.net, params, s.x, s.y, count, krylov=krylov,
                                          seed=seed)
    overlaps, matched = solvers.theta_overlaps(s.net, params, s.x, np.nan_to_num(vectors))
    return TopComparison(top.values, theta, top.bounds, top.gaps, top.resolved,
                         overlaps, matched)


def top_comparison(s: Setup, keys: tuple[jax.Array, jax.Array], steps: int = 0,
                   count: int | None = None, krylov: int | None = None) -> TopComparison:
    """``eigenvalue_gaps`` of one instance after ``steps`` of GD (cached)."""
    return measured("spectra-certified", TopComparison, s, keys, steps,
                     {"count": count, "krylov": krylov},
                     lambda p, key: eigenvalue_gaps(s, p, count, krylov, key))


@dataclasses.dataclass(frozen=True)
class MomentGaps:
    """Eq. (78-82): how the moments of H differ from those of Theta, m = 1..4.

    Attributes:
      relative: (4,) (Tr H^m - Tr Theta^m) / Tr Theta^m.
      relative_se: (4,) their standard errors (Hutchinson probes).
      trace_b2: Tr B^2, the m = 2 excess (eq. 82), and ``trace_b2_se`` its standard error.
      trace_theta: (4,) Tr Theta^m, exact (None where a committed report does not keep it).
      trace_a: (4,) Hutchinson's Tr A^m (= Tr Theta^m, eq. 79), ``trace_a_se`` its error.
    """

    relative: np.ndarray
    relative_se: np.ndarray
    trace_b2: float
    trace_b2_se: float
    trace_theta: np.ndarray | None = None
    trace_a: np.ndarray | None = None
    trace_a_se: np.ndarray | None = None


def moment_gaps(s: Setup, params: Params, probes: int, seed: int | jax.Array = 0
                ) -> MomentGaps:
    """Eq. (78-82): (Tr H^m - Tr Theta^m) / Tr Theta^m for m = 1..4 with standard errors.

    Tr Theta^m is exact (eigenvalues); Tr H^m - Tr A^m comes from Hutchinson with the same
    probes (drawn from ``seed``) for H and A, and Tr A^m = Tr Theta^m (eq. 79).
    """
    exact = solvers.exact_moments(solvers.ntk_eigenvalues(s.net, params, s.x))
    m = solvers.hutchinson_moments(s.net, params, s.x, s.y, probes, seed=seed)
    return MomentGaps(m.trace["H-A"] / exact, m.stderr["H-A"] / exact,
                      float(m.trace["B"][1]), float(m.stderr["B"][1]),
                      exact, m.trace["A"], m.stderr["A"])


def stage_moments(s: Setup, keys: tuple[jax.Array, jax.Array], steps: int, probes: int
                  ) -> MomentGaps:
    """``moment_gaps`` of one instance after ``steps`` of GD (cached)."""
    return measured("spectra-moments", MomentGaps, s, keys, steps, {"probes": probes},
                     lambda p, key: moment_gaps(s, p, probes, key))


@dataclasses.dataclass(frozen=True)
class RmsB:
    """Fig. 10b: the RMS eigenvalue of B, sqrt(Tr B^2 / P), and its standard error."""

    value: float
    stderr: float


def rms_b(s: Setup, params: Params, probes: int, seed: int | jax.Array = 0) -> RmsB:
    """Fig. 10b: sqrt(Tr B^2 / P) from Hutchinson (probes drawn from ``seed``)."""
    m = solvers.hutchinson_moments(s.net, params, s.x, s.y, probes, which=("B",), seed=seed)
    size = solvers.num_params(params)
    value = float(np.sqrt(m.trace["B"][1] / size))
    return RmsB(value, float(m.stderr["B"][1] / (2 * value * size)))


@dataclasses.dataclass(frozen=True)
class Density:
    """The SLQ eigenvalue density of H with Theta's eigenvalues, at one stage of training.

    Attributes:
      grid: (G,) eigenvalue grid, from -0.25 to 1.1 lambda_max(Theta).
      density: (G,) the Gaussian-broadened density per parameter.
      theta: (N k,) the eigenvalues of Theta, descending.
    """

    grid: np.ndarray
    density: np.ndarray
    theta: np.ndarray


def density(s: Setup, params: Params, krylov: int, probes: int, points: int,
            seed: int | jax.Array = 0) -> Density:
    """The SLQ density of H (``solvers.spectral_density``, probes from ``seed``) on a grid
    spanning Theta's eigenvalues."""
    theta = solvers.ntk_eigenvalues(s.net, params, s.x)
    grid = np.linspace(-0.25 * theta[0], 1.1 * theta[0], points)
    d = solvers.spectral_density(s.net, params, s.x, s.y, grid, krylov=krylov, probes=probes,
                                 seed=seed)
    return Density(grid, d.density, theta)


def stage_density(s: Setup, keys: tuple[jax.Array, jax.Array], steps: int, krylov: int,
                  probes: int, points: int) -> Density:
    """``density`` of one instance after ``steps`` of GD (cached)."""
    return measured("spectra-density", Density, s, keys, steps,
                     {"krylov": krylov, "probes": probes, "points": points},
                     lambda p, key: density(s, p, krylov, probes, points, key))


@dataclasses.dataclass(frozen=True)
class Eq79:
    """Eq. (79) checked: the certified top eigenvalues of A = J^T J against those of Theta.

    Attributes:
      params: P, the number of parameters.
      count: N x classes, the eigenvalues compared.
      max_difference: max_i |lambda_i(A) - lambda_i(Theta)|.
      max_bound: the largest residual bound of A's values.
      resolved: how many of A's values are resolved (bound < 0.1 gap).
    """

    params: int
    count: int
    max_difference: float
    max_bound: float
    resolved: int


def eq79(protocol: ExplorerProtocol) -> Eq79:
    """Eq. (79) at width 2^log2_width, two hidden layers, ReLU, two classes: the top N x 2
    certified eigenvalues of A (``solvers.top_eigenvalues``) against Theta's."""
    s = setup(2**protocol.log2_width, 2, "relu", 2, protocol.per_class, protocol.seed)
    init, key = instance_keys(protocol.seed, s.net.width)
    params = s.net.sample(init)
    count = s.y.size
    top = solvers.top_eigenvalues(s.net, params, s.x, s.y, count, which="A", seed=key)
    theta = solvers.ntk_eigenvalues(s.net, params, s.x)
    return Eq79(solvers.num_params(params), count, float(np.max(np.abs(top.values - theta))),
                float(np.max(top.bounds)), int(np.sum(top.resolved)))
