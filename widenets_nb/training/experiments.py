"""The NTK during training, measured (Sec. 3, App. D.3, E.1, E.2; Fig. 1a).

- ``kernel_drift``: Fig. 1a. GD and SGD on two-class MNIST; mean |Θ_t - Θ_0| of one
  randomly chosen component after ``steps`` steps against width, fitted to n^s (paper:
  s = -1, Lemma 1 / Thm 11; Jacot et al.'s bound: -1/2) and to n^s (1 + c/n). The same
  runs give Var[Θ_t - Θ_0] ~ n^-2 (Thm 11); Var[Θ_0] ~ n^-1 (Thm 10) comes from many more
  initializations of the kernel alone (``initial_kernel``). Training runs on
  ``gram_inputs``: the same law as on the images, at a fraction of the cost.
- ``step_linearity``: App. E.2 / Thm 12. One GD step moves f by -η c Θ_0 (f_0 - y) plus a
  remainder that falls like 1/n, at every learning rate.
- ``infinite_width_limit``: E[Θ_0(x, x')] - Θ_∞(x, x') against width and the analytic
  kernel of ``kernels.infinite_width``, fitted to n^s, to n^s (1 + c/n) and to a/n + b/n^2
  (``expansion``), which says whether the 1/n coefficient a is resolved.
- ``fig1a``: the ``reproduce`` target running all three; ``Fig1a`` reads its report back.

Every width-scaling result is a ``results.Scaling``; every unit of work (one activation,
optimizer and width) goes through ``cache.cached``.

>>> DriftProtocol.for_profile("quick").widths
(32, 64, 128)
>>> component(16, 0) == tuple(components(16, 3, 0)[0])
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .. import cache, config, results
from ..config import tqdm
from ..data import load_mnist
from ..dynamics import TrainConfig, log_steps, loss_scale, parallel_chunks, train_many
from ..kernels import infinite_width
from ..nets import Network, init_many
from ..ntk import ntk_entry, ntk_vp
from ..paper import SLOPES
from ..results import Report, Scaling, format_slope, scaling
from ..theory.statistics import ntk_mean

#: The exponent of |E[Θ_0] - Θ_∞| in n (Conjecture 1 applied to E[Θ_0]).
LIMIT_SLOPE = SLOPES["limit.mean_ntk"].value

#: The spawn key of the component choice: a stream apart from the data subsample's
#: ``default_rng(seed)``.
_COMPONENT_STREAM = 1

#: The streams of a width's key ``fold_in(key(seed), width)``: training blocks and the
#: Var[Θ_0] sample.
_TRAIN_STREAM, _THETA0_STREAM = 0, 1

#: The powers of 1/n fitted to E[Θ_0] - Θ_∞ (``expansion``): whether the 1/n coefficient is
#: resolved can depend on where the series is cut.
EXPANSION_ORDERS: tuple[tuple[int, ...], ...] = ((1, 2), (1, 2, 3))

#: Initializations per cached training block (one compiled, vmapped run): a protocol with
#: more ``inits`` reuses the blocks of one with fewer.
TRAIN_BLOCK = 32


@dataclasses.dataclass(frozen=True)
class DriftProtocol:
    """Fig. 1a protocol (App. A.2): two-class MNIST (0 vs 1), input scaling D^-1/2 (eq. 15).

    Attributes:
      activations, optimizers: what to compare (``"gd"``, ``"sgd"``).
      widths: hidden widths n.
      depth: hidden layers.
      samples_per_class: training images per digit.
      steps, learning_rate, batch_size: training (SGD minibatch ``batch_size``); mean loss.
      inits: initializations per width of the training runs.
      components: Θ components recorded per run (the first is Fig. 1a's single one); the
        drift is also averaged over them, which cuts its Monte Carlo noise.
      variance_widths, variance_inits: widths and initializations of Var[Θ_0] (Thm 10),
        which needs only the kernel at initialization.
      seed: drives the data subsample, the chosen components, inits and SGD batches.
    """

    activations: tuple[str, ...] = ("linear", "relu", "tanh", "erf")
    optimizers: tuple[str, ...] = ("gd", "sgd")
    widths: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)
    depth: int = 1
    samples_per_class: int = 8
    steps: int = 1024
    learning_rate: float = 1.0
    batch_size: int = 4
    inits: int = 96
    components: int = 16
    variance_widths: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)
    variance_inits: int = 2000
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> DriftProtocol:
        """The protocol of profile ``name`` (None: the active one); paper: App. A.2."""
        match config.profile(name):
            case "quick":
                return cls(activations=("relu", "tanh"), widths=(32, 64, 128), steps=128,
                           samples_per_class=4, batch_size=2, inits=8,
                           variance_widths=(32, 64, 128, 256), variance_inits=1000)
            case "paper":
                return cls(widths=(64, 128, 256, 512, 1024, 2048, 4096), depth=2,
                           samples_per_class=1000, batch_size=100, inits=100,
                           variance_inits=10000)
        return cls()

    def network(self, activation: str, width: int) -> Network:
        """The network of eq. (2) with D^-1/2 input scaling on MNIST images."""
        return Network(input_dim=784, width=width, depth=self.depth, activation=activation,
                       input_scaling=True)

    def reduced_network(self, activation: str, width: int, inputs: int | None = None
                        ) -> Network:
        """``network`` on ``gram_inputs`` of ``inputs`` points (default: the training set)."""
        count = 2 * self.samples_per_class if inputs is None else inputs
        return dataclasses.replace(self.network(activation, width), input_dim=count)

    def train_config(self, optimizer: str) -> TrainConfig:
        """Training by ``optimizer``, recording about one step per doubling."""
        return TrainConfig(learning_rate=self.learning_rate, steps=self.steps,
                           optimizer=optimizer, batch_size=self.batch_size,
                           record_steps=log_steps(self.steps), seed=self.seed)


@dataclasses.dataclass(frozen=True)
class LinearityProtocol:
    """App. E.2 protocol: one GD step from initialization on two-class MNIST.

    Attributes:
      activation, depth: the network.
      widths: hidden widths n.
      etas: learning rates η.
      inits: initializations per width.
      samples_per_class: training images per digit.
      seed: drives the data subsample and the initializations.
    """

    activation: str = "tanh"
    depth: int = 1
    widths: tuple[int, ...] = (64, 128, 256, 512, 1024)
    etas: tuple[float, ...] = (1.0, 4.0, 16.0)
    inits: int = 32
    samples_per_class: int = 8
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> LinearityProtocol:
        """The protocol of profile ``name`` (None: the active one)."""
        match config.profile(name):
            case "quick":
                return cls(widths=(32, 64, 128), inits=16)
            case "paper":
                return cls(widths=(64, 128, 256, 512, 1024, 2048, 4096), inits=100,
                           samples_per_class=1000)
        return cls()


@dataclasses.dataclass(frozen=True)
class LimitProtocol:
    """The infinite-width limit of E[Θ_0] at the Fig. 1a component.

    Attributes:
      activations: those with an analytic kernel (``kernels.infinite_width``).
      depth: hidden layers (at depth 1 E[Θ_0] is exact at every width).
      widths: hidden widths n.
      inits: initializations per width.
      samples_per_class: training images per digit (the component's two images).
      seed: drives the data subsample, the component and the initializations.
    """

    activations: tuple[str, ...] = ("relu", "erf")
    depth: int = 2
    widths: tuple[int, ...] = (4, 8, 16, 32, 64)
    inits: int = 20000
    samples_per_class: int = 8
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> LimitProtocol:
        """The protocol of profile ``name`` (None: the active one)."""
        match config.profile(name):
            case "quick":
                return cls(widths=(4, 8, 16, 32), inits=2000)
            case "paper":
                return cls(widths=(4, 8, 16, 32, 64, 128, 256), inits=200000)
        return cls()


def _protocol(cls: type, fields: Mapping[str, Any]) -> Any:
    """A protocol from its JSON fields (lists back to tuples)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def mnist_pair(samples_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-class MNIST (0 -> -1, 1 -> +1), pixels in [0, 1]: (x, y)."""
    data = load_mnist((0, 1), samples_per_class, "train", seed)
    return data.x, data.y


def components(count: int, number: int, seed: int) -> np.ndarray:
    """(number, 2) random off-diagonal components (i, j), i != j, of a ``count``-point
    training kernel, all from one stream of ``seed`` apart from the data subsample's."""
    stream = np.random.SeedSequence(seed, spawn_key=(_COMPONENT_STREAM,))
    rng = np.random.default_rng(stream)
    return np.array([rng.choice(count, 2, replace=False) for _ in range(number)],
                    dtype=int).reshape(number, 2)


def component(count: int, seed: int) -> tuple[int, int]:
    """The randomly chosen component of Fig. 1a: the first of ``components``."""
    i, j = components(count, 1, seed)[0]
    return int(i), int(j)


def gram_inputs(x: np.ndarray) -> np.ndarray:
    """N-dimensional inputs L (N, N) with the same scaled Gram matrix x_a.x_b / D as the N
    linearly independent inputs ``x`` (N, D): L L^T / N = x x^T / D.

    Write x / sqrt(D) = (L / sqrt(N)) Q^T with Q (D, N) orthonormal. The first layer sees
    the inputs only through U x / sqrt(D) = (U Q) L^T / sqrt(N), and U Q is again iid
    Gaussian; every gradient step moves U by a combination of the x_a, i.e. moves U Q by
    the same combination of the rows of L and leaves the rest of U, which f never sees,
    alone; and the U part of Θ depends on x only through x_a.x_b. So f, Θ and the loss
    along GD or SGD have the same distribution on L as on x (Gaussian U only), at a
    fraction of the cost.
    """
    x = np.asarray(x, np.float64)
    return np.linalg.cholesky(len(x) * (x @ x.T / x.shape[1]))


def _drift_unit(protocol: DriftProtocol, activation: str, optimizer: str, width: int,
                pairs: np.ndarray, progress: bool) -> dict:
    """Θ at ``pairs`` and the loss of ``inits`` runs on ``gram_inputs`` (on the images when
    there are at least as many as pixels), cached by blocks of ``TRAIN_BLOCK``
    initializations (block b: ``fold_in(width key, _TRAIN_STREAM)``, b)."""
    p = protocol
    train_config = p.train_config(optimizer)
    images, y = mnist_pair(p.samples_per_class, p.seed)
    # fewer images than pixels: the Gram-equivalent inputs are smaller (and exist)
    x = gram_inputs(images) if len(images) < images.shape[1] else images
    net = dataclasses.replace(p.network(activation, width), input_dim=x.shape[1])
    stream = jax.random.fold_in(jax.random.fold_in(jax.random.key(p.seed), width),
                                _TRAIN_STREAM)
    blocks = []
    for block, start in enumerate(range(0, p.inits, TRAIN_BLOCK)):
        count = min(TRAIN_BLOCK, p.inits - start)

        def compute(block=block, count=count) -> dict:
            params = init_many(net, jax.random.fold_in(stream, block), count)
            every = np.broadcast_to(pairs, (count, *pairs.shape))
            run = train_many(net, params, x, y, train_config, pairs=every,
                             chunk=parallel_chunks(count), progress=progress)
            return {"theta": np.swapaxes(run.theta, 1, 2), "loss": run.loss}

        blocks.append(cache.cached("fig1a_drift", {
            "net": net, "train": train_config, "block": block, "count": count, "pairs": pairs,
            "samples_per_class": p.samples_per_class, "seed": p.seed}, compute))
    return {k: np.concatenate([b[k] for b in blocks]) for k in ("theta", "loss")}


def _theta0_samples(net: Network, x: np.ndarray, key: jax.Array, inits: int,
                    chunk: int) -> np.ndarray:
    """(inits,) Θ_0(x_0, x_1) of ``net`` over ``split(key, inits)``, ``chunk`` at a time."""
    keys = jax.random.split(key, inits)
    one = jax.jit(jax.vmap(lambda k: ntk_entry(net, net.sample(k), x[0], x[1])))
    return np.concatenate([np.asarray(one(keys[s : s + chunk]))
                           for s in range(0, inits, chunk)])


def initial_kernel(protocol: DriftProtocol, activation: str, chunk: int = 1000,
                   progress: bool = True) -> np.ndarray:
    """(W, I) Θ_0 at Fig. 1a's component over ``variance_widths`` and ``variance_inits``
    initializations, on the component's two ``gram_inputs`` (same law; Thm 10)."""
    p = protocol
    images, _ = mnist_pair(p.samples_per_class, p.seed)
    i, j = component(len(images), p.seed)
    x = gram_inputs(images[[i, j]])
    rows = []
    for width in tqdm(p.variance_widths, desc=f"Θ_0 {activation}", disable=not progress):
        net = p.reduced_network(activation, width, inputs=2)
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(p.seed), width),
                                 _THETA0_STREAM)
        rows.append(cache.cached("fig1a_theta0", {
            "net": net, "inits": p.variance_inits, "pair": (i, j),
            "samples_per_class": p.samples_per_class, "seed": p.seed},
            lambda net=net, key=key: {"theta": _theta0_samples(
                net, x, key, p.variance_inits, chunk)})["theta"])
    return np.stack(rows)


@dataclasses.dataclass(frozen=True)
class DriftResult:
    """Fig. 1a and Thm 10-11 measurements.

    Attributes:
      protocol: the protocol.
      components: (M, 2) training-set indices (i, j) of the recorded Θ components; row 0
        is the single randomly chosen component of Fig. 1a.
      steps: (R,) recorded steps.
      theta: (A, O, W, I, M, R) Θ_t(x_i, x_j) per activation, optimizer, width, init,
        component, step.
      loss: (A, O, W, I, R) mean training loss.
      drift: {(activation, optimizer): mean |Θ_T - Θ_0|} (T = last step), each
        initialization's |Θ_T - Θ_0| averaged over the M components; fitted with and
        without the 1/n correction.
      drift_single: the same for component 0 alone (the paper's protocol).
      variance_init: {activation: Var[Θ_0]} of component 0 over ``variance_widths`` and
        ``variance_inits`` (``initial``).
      variance_drift: {(activation, optimizer): Var[Θ_T - Θ_0]} of component 0.
      initial: (A, W', I') the Θ_0 samples of ``variance_init``.
    """

    protocol: DriftProtocol
    components: np.ndarray
    steps: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    drift: dict[tuple[str, str], Scaling]
    drift_single: dict[tuple[str, str], Scaling]
    variance_init: dict[str, Scaling]
    variance_drift: dict[tuple[str, str], Scaling]
    initial: np.ndarray

    def mean_drift(self) -> np.ndarray:
        """(A, O, W, I, R) |Θ_t - Θ_0| averaged over the recorded components."""
        return np.abs(self.theta - self.theta[..., :1]).mean(-2)

    @property
    def scalings(self) -> tuple[Scaling, ...]:
        """Every fit, labelled by quantity, activation and optimizer."""
        return (*self.drift.values(), *self.drift_single.values(),
                *self.variance_init.values(), *self.variance_drift.values())


def kernel_drift(protocol: DriftProtocol, progress: bool = True) -> DriftResult:
    """Fig. 1a: train every (activation, optimizer, width) and fit the kernel drift
    (Lemma 1, Thm 11) and Var[Θ_T - Θ_0] (Thm 11); Var[Θ_0] (Thm 10) from
    ``initial_kernel``."""
    p = protocol
    pairs = components(2 * p.samples_per_class, p.components, p.seed)
    units = [(a, o, w) for a in p.activations for o in p.optimizers for w in p.widths]
    entries = {}
    for a, o, w in tqdm(units, desc="fig1a", disable=not progress):
        entries[a, o, w] = _drift_unit(p, a, o, w, pairs, progress)
    initial = np.stack([initial_kernel(p, a, progress=progress) for a in p.activations])
    shape = (len(p.activations), len(p.optimizers), len(p.widths))
    theta = np.stack([entries[u]["theta"] for u in units]).reshape(
        *shape, p.inits, len(pairs), -1)
    loss = np.stack([entries[u]["loss"] for u in units]).reshape(*shape, p.inits, -1)
    change = theta[..., 0, -1] - theta[..., 0, 0]
    averaged = np.abs(theta[..., -1] - theta[..., 0]).mean(-1)
    drift, single, variance_drift, variance_init = {}, {}, {}, {}

    def fit(name: str, samples, statistic: str, slope: str, widths=p.widths,
            **labels: str) -> Scaling:
        return scaling(name, widths, list(samples), statistic, SLOPES[slope].value,
                       seed=p.seed, correction=True, labels=labels)

    for ia, a in enumerate(p.activations):
        variance_init[a] = fit("Var[Θ_0]", initial[ia], "variance", "fig1a.variance_init",
                               widths=p.variance_widths, quantity="variance_init",
                               activation=a)
        for io, o in enumerate(p.optimizers):
            labels = dict(activation=a, optimizer=o)
            drift[a, o] = fit("mean |Θ_T - Θ_0|", averaged[ia, io], "mean", "fig1a.drift",
                              quantity="drift", **labels)
            single[a, o] = fit("|Θ_T - Θ_0|, one component", np.abs(change[ia, io]), "mean",
                               "fig1a.drift", quantity="drift_single", **labels)
            variance_drift[a, o] = fit("Var[Θ_T - Θ_0]", change[ia, io], "variance",
                                       "fig1a.variance_drift", quantity="variance_drift",
                                       **labels)
    return DriftResult(p, pairs, np.asarray(log_steps(p.steps)), theta, loss, drift, single,
                       variance_init, variance_drift, initial)


@dataclasses.dataclass(frozen=True)
class LinearityResult:
    """App. E.2: the remainder r = f_1 - f_0 + η c Θ_0 (f_0 - y) of one GD step.

    Attributes:
      protocol: the protocol.
      remainder: (E, W, I) RMS over the training set of r, per initialization.
      step: (E, W, I) RMS of f_1 - f_0 (for scale).
      fits: (E,) mean RMS remainder against width per η (Thm 12: slope -1).
    """

    protocol: LinearityProtocol
    remainder: np.ndarray
    step: np.ndarray
    fits: tuple[Scaling, ...]


def _one_step(net: Network, params, x: jax.Array, y: jax.Array, eta: float):
    """RMS of f_1 - f_0 and of its part beyond -η Θ_0 dl/df (mean loss)."""
    scale = loss_scale(TrainConfig(), x.shape[0])

    def loss(p):
        return 0.5 * scale * jnp.sum((net.apply(p, x) - y) ** 2)

    f0 = net.apply(params, x)
    grads = jax.grad(loss)(params)
    f1 = net.apply(jax.tree.map(lambda p, g: p - eta * g, params, grads), x)
    linear = -eta * scale * ntk_vp(net, params, x, f0 - y)
    rms = lambda v: jnp.sqrt(jnp.mean(v**2))  # noqa: E731
    return rms(f1 - f0 - linear), rms(f1 - f0)


#: One GD step for a batch of initializations; eta is an array argument, so one compilation
#: per network serves every learning rate.
_steps = jax.jit(jax.vmap(_one_step, in_axes=(None, 0, None, None, None)), static_argnums=0)


def step_linearity(protocol: LinearityProtocol, progress: bool = True) -> LinearityResult:
    """App. E.2 / Thm 12: the non-linear part of one GD step against width, per η."""
    p = protocol
    x, y = (jnp.asarray(a) for a in mnist_pair(p.samples_per_class, p.seed))
    remainder = np.zeros((len(p.etas), len(p.widths), p.inits))
    step = np.zeros_like(remainder)
    for iw, width in enumerate(tqdm(p.widths, desc="one GD step", disable=not progress)):
        net = Network(input_dim=784, width=width, depth=p.depth, activation=p.activation,
                      input_scaling=True)

        def compute(net=net, width=width) -> dict:
            params = init_many(net, jax.random.fold_in(jax.random.key(p.seed), width), p.inits)
            out = [_steps(net, params, x, y, jnp.asarray(eta, x.dtype)) for eta in p.etas]
            return {"remainder": np.stack([o[0] for o in out]),
                    "step": np.stack([o[1] for o in out])}

        entry = cache.cached("e2_step", {"net": net, "etas": p.etas, "inits": p.inits,
                                         "samples_per_class": p.samples_per_class,
                                         "seed": p.seed}, compute)
        remainder[:, iw], step[:, iw] = entry["remainder"], entry["step"]
    fits = tuple(scaling(f"RMS remainder, η = {eta:g}", p.widths, list(remainder[ie]),
                         predicted=SLOPES["e2.remainder"].value, seed=p.seed,
                         labels={"quantity": "linearity", "eta": f"{eta:g}"})
                 for ie, eta in enumerate(p.etas))
    return LinearityResult(p, remainder, step, fits)


@dataclasses.dataclass(frozen=True)
class LimitResult:
    """E[Θ_0(x, x')] against the analytic infinite-width NTK.

    Attributes:
      protocol: the protocol.
      component: the training-set indices (i, j) of x, x' (Fig. 1a's component).
      samples: (A, W, I) Θ_0(x_i, x_j) per initialization.
      exact: (A,) Θ_∞(x_i, x_j) (``kernels.infinite_width``).
      fits: (A,) E[Θ_0] - Θ_∞ against width (widths where the difference is below 2
        standard errors are unresolved and excluded), with the 1/n-corrected fit.
      expansions: {activation: [``expansion``]} with each of ``EXPANSION_ORDERS`` that the
        widths can fix (more widths than coefficients).
    """

    protocol: LimitProtocol
    component: tuple[int, int]
    samples: np.ndarray
    exact: np.ndarray
    fits: tuple[Scaling, ...]
    expansions: dict[str, list[dict[str, Any]]]


def expansion(widths: Sequence[int], values: ArrayLike, stderr: ArrayLike,
              orders: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Weighted least squares of C(n) = sum_k a_k n^-k over ``orders`` k (the 1/n
    expansion with the exponents fixed): coefficients, standard errors, chi^2 and degrees
    of freedom. The leading coefficient is *resolved* when |a_1| >= 2 standard errors.

    >>> fit = expansion((4, 8, 16, 32), [3 / n + 5 / n**2 for n in (4, 8, 16, 32)],
    ...                 [1e-3] * 4)
    >>> [round(c, 6) for c in fit["coefficients"]], fit["resolved"]
    ([3.0, 5.0], True)
    """
    n = np.asarray(widths, np.float64)
    sigma = np.asarray(stderr, np.float64)
    if n.size <= len(orders):
        raise ValueError(f"{n.size} widths cannot fix {len(orders)} coefficients and a "
                         "residual; measure more widths.")
    design = n[:, None] ** -np.asarray(orders, np.float64)[None] / sigma[:, None]
    target = np.asarray(values, np.float64) / sigma
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    covariance = np.linalg.inv(design.T @ design)
    errors = np.sqrt(np.diag(covariance))
    return {"orders": list(orders), "coefficients": coefficients.tolist(),
            "stderr": errors.tolist(),
            "chi2": float(np.sum((design @ coefficients - target) ** 2)),
            "dof": int(n.size - len(orders)),
            "resolved": bool(abs(coefficients[0]) >= 2 * errors[0])}


def infinite_width_limit(protocol: LimitProtocol, chunk: int = 5000,
                         progress: bool = True) -> LimitResult:
    """Mean Θ_0 over ``inits`` initializations against Θ_∞: its approach in n.

    The component is the Fig. 1a one, computed on ``gram_inputs`` (same distribution);
    ``chunk`` initializations are evaluated at a time. Each difference is fitted to n^s,
    to n^s (1 + c/n) and, in ``expansions``, to a/n + b/n^2 and a/n + b/n^2 + c/n^3.
    """
    p = protocol
    images, _ = mnist_pair(p.samples_per_class, p.seed)
    i, j = component(len(images), p.seed)
    x = gram_inputs(images[[i, j]])
    samples = np.zeros((len(p.activations), len(p.widths), p.inits))
    exact = np.zeros(len(p.activations))
    for ia, activation in enumerate(p.activations):
        for iw, width in enumerate(tqdm(p.widths, desc=f"Θ_0 {activation}",
                                        disable=not progress)):
            net = Network(input_dim=2, width=width, depth=p.depth, activation=activation,
                          input_scaling=True)
            key = jax.random.fold_in(jax.random.key(p.seed), width)
            samples[ia, iw] = cache.cached("theta0_limit", {
                "net": net, "inits": p.inits, "pair": (i, j),
                "samples_per_class": p.samples_per_class, "seed": p.seed},
                lambda net=net, key=key: {"theta": _theta0_samples(net, x, key, p.inits,
                                                                   chunk)})["theta"]
        exact[ia] = infinite_width(net, x).ntk[0, 1]
    fits = tuple(scaling(f"E[Θ_0] - Θ_∞ ({a})", p.widths, list(samples[ia] - exact[ia]),
                         predicted=LIMIT_SLOPE, seed=p.seed, correction=True,
                         labels={"quantity": "limit", "activation": a})
                 for ia, a in enumerate(p.activations))
    expansions = {a: [expansion(f.widths, f.values, f.stderr, orders)
                      for orders in EXPANSION_ORDERS if len(p.widths) > len(orders)]
                  for a, f in zip(p.activations, fits, strict=True)}
    return LimitResult(p, (i, j), samples, exact, fits, expansions)


def limit_theory(protocol: LimitProtocol) -> dict[str, float]:
    """The predicted 1/n coefficient a_1 of E[Θ_0] - Θ_∞ at the protocol's component, per
    activation: the NTK mean's 1/n correction from the finite-width recursions
    (``theory.statistics.ntk_mean``), which share no code with the Monte Carlo."""
    p = protocol
    images, _ = mnist_pair(p.samples_per_class, p.seed)
    x = gram_inputs(images[list(component(len(images), p.seed))])
    return {a: float(ntk_mean(Network(input_dim=2, depth=p.depth, activation=a,
                                      input_scaling=True), x).coefficient_1_over_n)
            for a in p.activations}


def _corrected(fit: Scaling) -> str:
    """The 1/n-corrected fit of ``fit`` as a table cell."""
    c = fit.corrected
    if c is None:
        return "not fitted"
    return (f"{format_slope(c.slope, c.slope_ci)}, c = {c.correction:+.3g}, "
            f"chi2/dof = {c.chi2:.1f}/{c.dof}")


def _coefficient(fit: Mapping[str, Any], k: int) -> str:
    """Coefficient ``k`` of an ``expansion`` with its standard error."""
    return f"{fit['coefficients'][k]:+.3g} ± {fit['stderr'][k]:.2g}"


@dataclasses.dataclass(frozen=True)
class Fig1a:
    """The ``reproduce fig1a`` results, typed (``from_report``).

    Attributes:
      drift, linearity, limit: the three protocols.
      components: (M, 2) the recorded Θ components (row 0: Fig. 1a's single one).
      limit_component: the component of the infinite-width comparison.
      exact: {activation: Θ_∞} at that component.
      expansions: {activation: [``expansion``]} of E[Θ_0] - Θ_∞ per ``EXPANSION_ORDERS``
        (empty in older reports).
      report: the report, whose scalings are labelled ``quantity`` (``"drift"``,
        ``"drift_single"``, ``"variance_init"``, ``"variance_drift"``, ``"linearity"``,
        ``"limit"``), ``activation``, ``optimizer`` and ``eta``.
    """

    drift: DriftProtocol
    linearity: LinearityProtocol
    limit: LimitProtocol
    components: np.ndarray
    limit_component: tuple[int, int]
    exact: dict[str, float]
    report: Report
    expansions: Mapping[str, list[Mapping[str, Any]]] = dataclasses.field(
        default_factory=dict)

    @classmethod
    def from_report(cls, report: Report) -> Fig1a:
        """Read a ``fig1a`` report (``results.load("fig1a", profile)``)."""
        protocol, data = report.protocol, report.data
        return cls(_protocol(DriftProtocol, protocol["drift"]),
                   _protocol(LinearityProtocol, protocol["linearity"]),
                   _protocol(LimitProtocol, protocol["limit"]),
                   np.asarray(data["components"], dtype=int),
                   tuple(int(v) for v in data["limit_component"]),
                   {str(k): float(v) for k, v in data["exact"].items()}, report,
                   dict(data.get("expansions", {})))

    @classmethod
    def load(cls, profile: str | None = None) -> Fig1a:
        """The committed results of ``profile`` (default: the active one)."""
        return cls.from_report(results.load("fig1a", profile))

    def scalings(self, quantity: str, **labels: Any) -> tuple[Scaling, ...]:
        """The fits of ``quantity`` with these labels, in the report's order."""
        return self.report.select(quantity=quantity, **labels)

    def limit_theory_table(self) -> str:
        """Markdown: the predicted a_1 of E[Θ_0] - Θ_∞ (``limit_theory``) beside each
        fitted expansion's a_1 ± its standard error and their distance in standard
        errors."""
        predicted = limit_theory(self.limit)
        lines = ["| activation | predicted a_1 (1/n theory) | "
                 + " | ".join(f"fitted a_1 ({len(o)} terms) | z" for o in EXPANSION_ORDERS)
                 + " |", "|---|---|" + "---|---|" * len(EXPANSION_ORDERS)]
        for a, c in predicted.items():
            row = [a, f"{c:+.4f}"]
            for fit in list(self.expansions.get(a, []))[:len(EXPANSION_ORDERS)]:
                value, se = fit["coefficients"][0], fit["stderr"][0]
                row += [f"{value:+.4f} ± {se:.4f}", f"{(value - c) / se:+.1f}"]
            lines.append(f"| {' | '.join(row)} |")
        return "\n".join(lines)

    def table(self) -> str:
        """The results as Markdown tables."""
        s, lin, lim = self.drift, self.linearity, self.limit
        i, j = self.components[0]
        methods = sorted({f.method for f in self.report.scalings if f.fitted})
        lines = [
            f"Two-class MNIST (0 vs 1), {2 * s.samples_per_class} training images, depth "
            f"{s.depth}, input scaling D^-1/2, mean MSE loss, learning rate {s.learning_rate},"
            f" {s.steps} steps (SGD batch {s.batch_size}); training runs on "
            f"{2 * s.samples_per_class}-dimensional inputs with the images' Gram matrix "
            f"(the same law of f and Theta). {s.inits} initializations per width "
            f"{list(s.widths)}. Fitted exponents of the width with 95% CIs "
            f"({'; '.join(methods)}). 1/n-corrected: the fit A n^s (1 + c/n) (normal CI "
            "from the fit's covariance; chi2 of the weighted residuals). Drift: each "
            "initialization's abs(Theta_T - Theta_0) averaged over "
            f"{s.components} random off-diagonal components; single: the first of them "
            f"alone, Theta(x_{i}, x_{j}), which also gives the variance.", "",
            f"| activation | optimizer | drift (paper {SLOPES['fig1a.drift'].value:g}, Jacot "
            f"{SLOPES['fig1a.jacot_bound'].value:g}) | drift, 1/n-corrected | "
            "drift, single component | "
            f"Var[Theta_T - Theta_0] (Thm 11: {SLOPES['fig1a.variance_drift'].value:g}) |",
            "|---|---|---|---|---|---|"]
        for a in s.activations:
            for o in s.optimizers:
                drift = self.report.find(quantity="drift", activation=a, optimizer=o)
                cells = [drift.label(), _corrected(drift)] + [
                    self.report.find(quantity=q, activation=a, optimizer=o).label()
                    for q in ("drift_single", "variance_drift")]
                lines.append(f"| {a} | {o} | {' | '.join(cells)} |")
        lines += ["", f"Thm 10: Var[Theta_0] of Theta(x_{i}, x_{j}) at initialization, "
                  f"{s.variance_inits} initializations per width {list(s.variance_widths)}:",
                  "", f"| activation | exponent (Thm 10: "
                  f"{SLOPES['fig1a.variance_init'].value:g}) | 1/n-corrected |", "|---|---|---|"]
        for f in self.scalings("variance_init"):
            lines.append(f"| {f.labels['activation']} | {f.label()} | {_corrected(f)} |")
        lines += ["", f"App. E.2 ({lin.activation}, depth {lin.depth}, {lin.inits} "
                  "initializations per width): RMS of f_1 - f_0 + eta Theta_0 (f_0 - y)/N "
                  "after one GD step, exponent of the width (expected "
                  f"{SLOPES['e2.remainder'].value:g}):", "", "| eta | exponent |", "|---|---|"]
        lines += [f"| {f.labels['eta']} | {f.label()} |" for f in self.scalings("linearity")]
        cuts = " and ".join(" + ".join(f"a_{k}/n^{k}" for k in orders)
                            for orders in EXPANSION_ORDERS)
        lines += ["", f"Infinite width (depth {lim.depth}, {lim.inits} initializations per "
                  f"width {list(lim.widths)}): E[Theta_0] - Theta_inf. Exponent of its "
                  f"absolute value (Conjecture 1 bounds it by n^{LIMIT_SLOPE:g}; the exponent "
                  "is steeper where the 1/n coefficient vanishes; unresolved widths excluded), "
                  f"the 1/n-corrected fit, and weighted fits {cuts} on every width, each with "
                  "its leading coefficient a_1 (not resolved: abs(a_1) < 2 standard errors) "
                  "and chi2/dof:", "",
                  "| activation | Theta_inf | exponent | unresolved widths | 1/n-corrected | "
                  + " | ".join(f"a_1 ({len(o)} terms) | chi2/dof" for o in EXPANSION_ORDERS)
                  + " |", "|---|---|---|---|---|" + "---|---|" * len(EXPANSION_ORDERS)]
        for f in self.scalings("limit"):
            a = f.labels["activation"]
            row = [a, f"{self.exact[a]:.5f}", f.label(),
                   str(list(f.unresolved)) if f.fitted else "all", _corrected(f)]
            fits = list(self.expansions.get(a, []))
            for k in range(len(EXPANSION_ORDERS)):
                fit = fits[k] if k < len(fits) else None
                row += ["", ""] if fit is None else [
                    _coefficient(fit, 0) + ("" if fit["resolved"] else " (not resolved)"),
                    f"{fit['chi2']:.1f}/{fit['dof']}"]
            lines.append(f"| {' | '.join(row)} |")
        return "\n".join(lines)


def fig1a(profile: str) -> Report:
    """``reproduce fig1a``: kernel drift (Fig. 1a), Thm 10-11 variances, App. E.2 and the
    infinite-width limit, with fitted exponents and their 95% CIs."""
    drift = kernel_drift(DriftProtocol.for_profile(profile))
    linearity = step_linearity(LinearityProtocol.for_profile(profile))
    limit = infinite_width_limit(LimitProtocol.for_profile(profile))
    report = Report(
        "fig1a",
        protocol={"drift": dataclasses.asdict(drift.protocol),
                  "linearity": dataclasses.asdict(linearity.protocol),
                  "limit": dataclasses.asdict(limit.protocol)},
        scalings=(*drift.scalings, *linearity.fits, *limit.fits),
        data={"components": drift.components.tolist(),
              "limit_component": list(limit.component),
              "exact": dict(zip(limit.protocol.activations, limit.exact.tolist(),
                                strict=True)),
              "expansions": limit.expansions})
    return dataclasses.replace(report, markdown=Fig1a.from_report(report).table())
