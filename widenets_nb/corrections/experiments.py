"""Figs. 1b-c and 11 (App. E.4): one training run against its own O(1/n) prediction.

Protocol (App. A.2): two-class MNIST (digits 0 and 1), 10 training images per class, full-batch
GD with learning rate 0.1 on the summed MSE (``closed_forms`` convention), one hidden layer of
width n with a smooth activation, input scaling D^{-1/2}; f is also followed on a few test
images. Each run is compared with four predictions computed from its own initialization
(``PREDICTIONS``): the constant-kernel (infinite-width) dynamics and the O(1/n) dynamics, each
in continuous time (t = eta * step) and as the discrete GD recursion.

The networks are trained and expanded on ``inputs``: the ``training.experiments.gram_inputs``
of the training and test images, M-dimensional inputs (M = training + test images) with the
images' scaled Gram matrix. With Gaussian first-layer weights, f, Theta, the loss, their
derivatives and so every operator of the tower have the same joint law on them as on the
784-pixel images (an orthogonal change of the first layer's input coordinates), and the
network has 25 n instead of 785 n parameters. Everything here computes in float64
(``jax.enable_x64``, scoped to the call): the corrections are O(1/n^2)-accurate, and the errors
they leave at width 2048 (2e-6 to 8e-6 for tanh and erf, ``data/results/fig11_standard.md``)
are tens of float32 ulps of f.

Beyond the paper's pictures (``Fig11``): the error of each prediction, max over recorded steps
(and over inputs / kernel components), against width across initializations, as one
``results.Scaling`` per activation, quantity and prediction.

Initialization ``seed`` of a width is the network ``Network.sample(jax.random.key(seed))`` on
``inputs``: the sweep's initialization 0 is the very network the trajectory panel shows at
seed 0, so the two share their cached runs.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np

from .. import config, dynamics, operators, paper
from ..cache import cached
from ..config import tqdm
from ..data import load_mnist
from ..nets import Network, Params
from ..results import Report, Scaling, scaling
from ..training.experiments import gram_inputs
from . import closed_forms

#: The four predictions of a run, in drawing order, and what each one is.
PREDICTIONS: dict[str, str] = {
    "leading_continuous": "constant kernel, gradient flow",
    "corrected_continuous": "O(1/n), gradient flow",
    "leading_discrete": "constant kernel, GD",
    "corrected_discrete": "O(1/n), GD recursion",
}
#: What is compared: f on the training images, f on the test images, Theta(x, a).
QUANTITIES: tuple[str, ...] = ("f_train", "f_test", "theta")
#: The error exponents theory gives (Sec. 3.1, App. E.4): the constant-kernel dynamics misses
#: the O(1/n) motion of the kernel; the O(1/n) GD recursion is exact to O(1/n), so its error
#: is the next order. In continuous time f carries an O(eta) discretization error that does
#: not shrink with width, so no exponent is predicted there.
PREDICTED: dict[str, float] = {"leading_discrete": paper.SLOPES["fig11.leading"].value,
                               "corrected_discrete": paper.SLOPES["fig11.corrected"].value}
#: Grey reference slopes of the error figure.
GUIDES: dict[str, float] = {"n^-1": -1.0, "n^-2": -2.0}
#: The error statistic of ``Fig11``.
ERROR = "max over steps |prediction - actual|"
#: Theta(x, a) is recorded for a = the first and the last training image.
THETA_COLUMNS: tuple[str, ...] = ("first", "last")


@dataclasses.dataclass(frozen=True)
class Data:
    """Training set (N = 2 x per_class images) and test images, as float64 arrays."""

    x_train: np.ndarray
    y: np.ndarray
    x_test: np.ndarray


@functools.lru_cache(maxsize=8)
def mnist(per_class: int = 10, test_per_class: int = 2, seed: int = 0) -> Data:
    """Two-class MNIST (0 vs 1, targets -1/+1), the paper's Fig. 11 training set; ``seed``
    chooses the images (``data.load_mnist``)."""
    train = load_mnist((0, 1), per_class, "train", seed)
    test = load_mnist((0, 1), test_per_class, "test", seed)
    return Data(train.x.astype(np.float64), train.y[:, 0].astype(np.float64),
                test.x.astype(np.float64))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Training:
    """How every run of this section trains, and on what (App. A.2).

    Attributes:
      steps: GD steps.
      learning_rate: eta.
      depth: hidden layers.
      per_octave: recorded steps per doubling (``dynamics.log_steps``).
      per_class: training images per digit.
      test_per_class: test images per digit.
      data_seed: chooses the images (``mnist``).
    """

    steps: int = 10_000
    learning_rate: float = 0.1
    depth: int = 1
    per_octave: int = 4
    per_class: int = 10
    test_per_class: int = 2
    data_seed: int = 0

    def data(self) -> Data:
        """The training and test images."""
        return mnist(self.per_class, self.test_per_class, self.data_seed)

    @property
    def record(self) -> np.ndarray:
        """The recorded GD steps (``dynamics.log_steps``)."""
        return np.asarray(dynamics.log_steps(self.steps, self.per_octave))


@dataclasses.dataclass(frozen=True)
class TrajectoryProtocol(Training):
    """One training run and its predictions (Figs. 1b-c, 11; notebook 04's first panel).

    Attributes:
      activation: a smooth activation (``nets.ACTIVATIONS``).
      width: n, the hidden-layer width.
      seed: the initialization (parameters from ``jax.random.key(seed)``).
      steps, learning_rate, ...: ``Training`` (keyword only).
    """

    activation: str = "tanh"
    width: int = 1024
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> TrajectoryProtocol:
        """The run shown first in ``profile`` (quick: one of the quick sweep's runs)."""
        return {"quick": cls(width=256, steps=1000),
                "standard": cls(width=1024, steps=10_000),
                "paper": cls(width=2048, steps=10_000)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class Fig11Protocol(Training):
    """The Fig. 11 error sweep: every width, initialization and activation.

    Attributes:
      widths: the hidden-layer widths.
      inits: initializations per width (seeds 0 .. inits - 1, as in ``TrajectoryProtocol``).
      activations: the activations swept.
      steps, learning_rate, ...: ``Training`` (keyword only), shared by every run.
    """

    widths: tuple[int, ...]
    inits: int
    activations: tuple[str, ...] = ("tanh", "erf", "gelu")

    @classmethod
    def for_profile(cls, name: str | None = None) -> Fig11Protocol:
        """quick: 3 widths x 2 initializations, tanh, 1000 steps; standard: 4 widths x 8
        (the fewest for a t-interval, ``results.scaling``), three activations, 10^4 steps;
        paper: 5 widths up to 4096 x 10."""
        return {"quick": cls((128, 256, 512), 2, ("tanh",), steps=1000),
                "standard": cls((256, 512, 1024, 2048), 8, steps=10_000),
                "paper": cls((256, 512, 1024, 2048, 4096), 10, steps=10_000)
                }[config.profile(name)]

    @classmethod
    def live(cls, name: str | None = None) -> Fig11Protocol:
        """The sweep notebook 04 computes live: ``for_profile``'s, except in standard, whose
        full sweep (minutes) is committed: there widths 128-512 and 10^3 steps (seconds)."""
        full = cls.for_profile(name)
        if config.profile(name) != "standard":
            return full
        return dataclasses.replace(full, widths=(128, 256, 512), steps=1000)

    def run(self, activation: str, width: int, seed: int) -> TrajectoryProtocol:
        """The protocol of one of the sweep's runs.

        >>> quick = Fig11Protocol.for_profile("quick")
        >>> quick.run("tanh", 256, seed=0) == TrajectoryProtocol.for_profile("quick")
        True
        """
        training = {f.name: getattr(self, f.name) for f in dataclasses.fields(Training)}
        return TrajectoryProtocol(activation=activation, width=width, seed=seed, **training)


@dataclasses.dataclass(frozen=True)
class Traces:
    """f at one training and one test image and one Theta component, run and predictions.

    Attributes:
      steps: (R,) recorded GD steps.
      actual: quantity (``QUANTITIES``) -> (R,) values of the trained network.
      predicted: prediction (``PREDICTIONS``) -> quantity -> (R,) predicted values.
      labels: quantity -> what it is, e.g. ``"f(test image 0)"``.
    """

    steps: np.ndarray
    actual: Mapping[str, np.ndarray]
    predicted: Mapping[str, Mapping[str, np.ndarray]]
    labels: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (``from_json`` reads it back)."""
        return {"steps": self.steps.tolist(), "labels": dict(self.labels),
                "actual": {q: v.tolist() for q, v in self.actual.items()},
                "predicted": {p: {q: v.tolist() for q, v in per.items()}
                              for p, per in self.predicted.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Traces:
        """The ``Traces`` stored by ``to_json``."""
        return cls(np.asarray(data["steps"]),
                   {q: np.asarray(v) for q, v in data["actual"].items()},
                   {p: {q: np.asarray(v) for q, v in per.items()}
                    for p, per in data["predicted"].items()}, dict(data["labels"]))


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One training run and its predictions on inputs X = (training images, test images).

    Attributes:
      steps: (R,) recorded GD steps.
      n_train: N; rows N.. of X are test images.
      actual_f: (R, M) f of the trained network.
      actual_theta: (R, M, 2) Theta(x, a) for a = the first and the last training image.
      predictions: name (``PREDICTIONS``, those computed so far) -> {"f": (R, M),
        "theta": (R, M, 2)}.
    """

    steps: np.ndarray
    n_train: int
    actual_f: np.ndarray
    actual_theta: np.ndarray
    predictions: Mapping[str, Mapping[str, np.ndarray]]

    def errors(self) -> dict[str, dict[str, float]]:
        """prediction -> quantity -> max over steps (and inputs / components) of
        |prediction - actual|."""
        n = self.n_train
        out = {}
        for name, pred in self.predictions.items():
            df = np.abs(pred["f"] - self.actual_f)
            out[name] = {"f_train": float(df[:, :n].max()), "f_test": float(df[:, n:].max()),
                         "theta": float(np.abs(pred["theta"] - self.actual_theta).max())}
        return out

    def trace(self, train_image: int = 0, test_image: int = 0,
              theta_column: str = "last") -> Traces:
        """f(training image), f(test image) and Theta(training image, first or last training
        image) along the run, actual and predicted."""
        n, m = self.n_train, self.actual_f.shape[1]
        if not (0 <= train_image < n and 0 <= test_image < m - n):
            raise ValueError(f"images out of range: {n} training and {m - n} test images.")
        if theta_column not in THETA_COLUMNS:
            raise ValueError(f"theta_column must be one of {THETA_COLUMNS}, got "
                             f"{theta_column!r}.")
        col = THETA_COLUMNS.index(theta_column)
        a = 0 if col == 0 else n - 1

        def select(f: np.ndarray, theta: np.ndarray) -> dict[str, np.ndarray]:
            return {"f_train": f[:, train_image], "f_test": f[:, n + test_image],
                    "theta": theta[:, train_image, col]}

        labels = {"f_train": f"f(training image {train_image})",
                  "f_test": f"f(test image {test_image})",
                  "theta": f"Θ(training image {train_image}, training image {a})"}
        return Traces(self.steps, select(self.actual_f, self.actual_theta),
                      {p: select(v["f"], v["theta"]) for p, v in self.predictions.items()},
                      labels)

    def summary(self) -> str:
        """One line: the largest error of each prediction (f train / f test / Theta)."""
        return "max error over steps and inputs (f train / f test / Θ): " + "; ".join(
            f"{PREDICTIONS[p]} {e['f_train']:.1e} / {e['f_test']:.1e} / {e['theta']:.1e}"
            for p, e in self.errors().items())


def network(activation: str, width: int, depth: int = 1, input_dim: int = 784) -> Network:
    """The Fig. 11 network: ``input_dim`` inputs (784 pixels, or the M of ``inputs``) with
    input scaling, one output."""
    return Network(input_dim=input_dim, width=width, depth=depth, activation=activation,
                   input_scaling=True)


def inputs(data: Data) -> np.ndarray:
    """(M, M) ``gram_inputs`` of the training then the test images: x_a.x_b / M equals the
    images' x_a.x_b / 784 (the same law of f, Theta and the tower for Gaussian weights)."""
    return gram_inputs(np.concatenate([data.x_train, data.x_test]))


def _initialized(protocol: TrajectoryProtocol, x: np.ndarray) -> tuple[Network, Params]:
    """The protocol's network on the inputs ``x`` and its initialization ``seed``."""
    net = network(protocol.activation, protocol.width, protocol.depth, x.shape[1])
    return net, net.sample(jax.random.key(protocol.seed))


def _run_key(protocol: TrajectoryProtocol) -> dict[str, Any]:
    """The cache key of one run: every field of the protocol and its data."""
    data = protocol.data()
    return dict(activation=protocol.activation, width=protocol.width, seed=protocol.seed,
                learning_rate=protocol.learning_rate, steps=protocol.steps,
                depth=protocol.depth, per_octave=protocol.per_octave, x_train=data.x_train,
                y=data.y, x_test=data.x_test, inputs="gram")


def tower_of(protocol: TrajectoryProtocol) -> operators.Tower:
    """The operators of one initialization (``operators.tower``; cached per initialization).
    Computes in float64."""
    data = protocol.data()
    key = {k: v for k, v in _run_key(protocol).items()
           if k not in ("learning_rate", "steps", "per_octave")}  # training does not enter

    def compute() -> dict[str, np.ndarray]:
        n = len(data.y)
        with jax.enable_x64(True):
            x = inputs(data)
            net, params = _initialized(protocol, x)
            t = operators.tower(net, params, x[:n], data.y, x[n:])
        return dataclasses.asdict(t)

    entry = cached("corrections_tower", key, compute)
    return operators.Tower(**{k: np.asarray(v) for k, v in entry.items()})


def predict(tower: operators.Tower, learning_rate: float, steps: np.ndarray,
            order: str) -> dict[str, dict[str, np.ndarray]]:
    """The two ``PREDICTIONS`` of ``order`` (``"leading"`` or ``"corrected"``) at the
    recorded ``steps`` (Theta columns as in ``Comparison``): eq. 101-103 at
    t = eta * step, and the GD recursion of eq. 106-122 (on a second thread, at once)."""
    cols = [0, tower.n_train - 1]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        discrete = pool.submit(closed_forms.discrete, tower, learning_rate, steps, order)
        continuous = closed_forms.continuous(tower, learning_rate * steps, order)
        preds = {"continuous": continuous, "discrete": discrete.result()}
    return {f"{order}_{name}": {"f": pred.f, "theta": pred.theta[:, :, cols]}
            for name, pred in preds.items()}


def train_run(protocol: TrajectoryProtocol, net: Network, params: Params, x: np.ndarray,
              y: np.ndarray) -> dynamics.Trajectory:
    """GD on the summed MSE of the first len(y) rows of ``x`` (``protocol``'s learning rate and
    steps); f at every row and Theta(x, first / last training input) at the recorded steps.
    Call with float64 on (``jax.enable_x64``)."""
    n = len(y)
    pairs = np.array([(i, j) for i in range(x.shape[0]) for j in (0, n - 1)])
    cfg = dynamics.TrainConfig(learning_rate=protocol.learning_rate, steps=protocol.steps,
                               loss="sum", record_steps=tuple(int(s) for s in protocol.record))
    return dynamics.train(net, params, x[:n], y, cfg, x_eval=x, pairs=pairs)


def actual(protocol: TrajectoryProtocol) -> tuple[np.ndarray, np.ndarray]:
    """The protocol's training run (``train_run``, cached): f (R, M) and Theta (R, M, 2) at
    the recorded steps. Computes in float64."""
    data = protocol.data()

    def compute() -> dict[str, np.ndarray]:
        with jax.enable_x64(True):
            x = inputs(data)
            run = train_run(protocol, *_initialized(protocol, x), x, data.y)
        return {"f": run.f[:, :, 0], "theta": run.theta.reshape(len(run.steps), -1, 2)}

    entry = cached("fig11_train", _run_key(protocol), compute)
    return np.asarray(entry["f"]), np.asarray(entry["theta"])


def predictions(protocol: TrajectoryProtocol, order: str) -> dict[str, dict[str, np.ndarray]]:
    """``predict`` of ``order`` for the protocol's initialization (cached)."""
    def compute() -> dict[str, np.ndarray]:
        preds = predict(tower_of(protocol), protocol.learning_rate, protocol.record, order)
        return {f"{name}/{q}": v for name, per in preds.items() for q, v in per.items()}

    entry = cached("fig11_predictions", {**_run_key(protocol), "order": order}, compute)
    return {name: {q: np.asarray(entry[f"{name}/{q}"]) for q in ("f", "theta")}
            for name in PREDICTIONS if name.startswith(order)}


def trajectory_stages(protocol: TrajectoryProtocol) -> Iterator[Comparison]:
    """The run with its constant-kernel predictions, then with all four ``PREDICTIONS``
    (Figs. 1b-c, 11): the training runs on a second thread while the operators and
    predictions are computed. Each piece is cached. Computes in float64.

    Raises:
      ValueError: training or the prediction diverged (learning rate too large).
    """
    record, n = protocol.record, len(protocol.data().y)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        run = pool.submit(actual, protocol)
        leading = predictions(protocol, "leading")
        yield Comparison(record, n, *run.result(), leading)
    yield Comparison(record, n, *run.result(), {**leading,
                                                **predictions(protocol, "corrected")})


def trajectory(protocol: TrajectoryProtocol) -> Comparison:
    """Train one initialization and predict it (Figs. 1b-c, 11): the last of
    ``trajectory_stages``. Computes in float64 (``jax.enable_x64``, scoped): the corrections
    are O(1/n^2)-accurate.

    Raises:
      ValueError: training or the prediction diverged (learning rate too large).
    """
    *_, comparison = trajectory_stages(protocol)
    return comparison


@dataclasses.dataclass(frozen=True)
class LateKernel:
    """Eq. (104-105) for one initialization: Theta_0 and Theta_0 + Theta_inf on the training set.

    Attributes:
      width: n.
      theta0: (N,) eigenvalues of Theta_0, ascending.
      corrected: (N,) eigenvalues of Theta_0 + Theta_inf, ascending: the late decay rates.
      ratio: |Theta_inf| / |Theta_0| (Frobenius norms), O(1/n).
    """

    width: int
    theta0: np.ndarray
    corrected: np.ndarray
    ratio: float

    def summary(self, count: int = 4) -> str:
        """The ``count`` smallest eigenvalues of both kernels and the ratio, three lines.

        >>> print(LateKernel(64, np.array([0.5, 2.0]), np.array([0.49, 2.1]), 0.01).summary(1))
        smallest eigenvalues of Θ₀:       [0.5]
        smallest eigenvalues of Θ₀ + Θ_∞: [0.49]
        |Θ_∞| / |Θ₀| = 1.00e-02 at width 64
        """
        return (f"smallest eigenvalues of Θ₀:       {np.round(self.theta0[:count], 5)}\n"
                f"smallest eigenvalues of Θ₀ + Θ_∞: {np.round(self.corrected[:count], 5)}\n"
                f"|Θ_∞| / |Θ₀| = {self.ratio:.2e} at width {self.width}")


def late_kernel(protocol: TrajectoryProtocol) -> LateKernel:
    """Eq. (104): Theta_inf of the protocol's initialization, and the spectrum of
    Theta_0 + Theta_inf whose eigenvalues are the late decay rates (eq. 105)."""
    tower = tower_of(protocol)
    n = tower.n_train
    theta0 = tower.theta[:n]
    late = closed_forms.theta_late(tower)[:n]
    return LateKernel(protocol.width, np.linalg.eigvalsh(theta0),
                      np.linalg.eigvalsh(theta0 + late),
                      float(np.linalg.norm(late) / np.linalg.norm(theta0)))


@dataclasses.dataclass(frozen=True)
class Fig11:
    """The Fig. 11 sweep: error scalings and example trajectories.

    Attributes:
      protocol: the sweep.
      scalings: one ``Scaling`` of the mean error per activation, quantity and prediction,
        labelled ``{"activation", "quantity", "prediction"}``.
      errors: (activation, prediction, quantity) -> (W, inits) error of every run.
      examples: (activation, width) -> ``Traces`` of initialization 0 (training image 0, test
        image 0, Theta against the last training image) at the smallest and largest width.
      n_train, n_test: training and test images.
    """

    protocol: Fig11Protocol
    scalings: tuple[Scaling, ...]
    errors: Mapping[tuple[str, str, str], np.ndarray]
    examples: Mapping[tuple[str, int], Traces]
    n_train: int
    n_test: int

    @classmethod
    def from_errors(cls, protocol: Fig11Protocol, errors: Mapping[tuple[str, str, str],
                    np.ndarray], examples: Mapping[tuple[str, int], Traces], n_train: int,
                    n_test: int) -> Fig11:
        """Fit every error scaling (``results.scaling``: its interval method follows the
        number of initializations, and too few give "not fitted")."""
        scalings = tuple(
            scaling(f"{q}: {PREDICTIONS[p]}", protocol.widths, list(errors[a, p, q]),
                    predicted=PREDICTED.get(p),
                    labels={"activation": a, "quantity": q, "prediction": p})
            for a in protocol.activations for q in QUANTITIES for p in PREDICTIONS)
        return cls(protocol, scalings, dict(errors), dict(examples), n_train, n_test)

    def view(self, activation: str, quantity: str) -> tuple[Scaling, ...]:
        """The four predictions' error scalings of one quantity, in ``PREDICTIONS`` order."""
        return tuple(self.scaling(activation, quantity, p) for p in PREDICTIONS)

    def scaling(self, activation: str, quantity: str, prediction: str) -> Scaling:
        """The error scaling of one prediction."""
        found = [s for s in self.scalings if s.labels == {
            "activation": activation, "quantity": quantity, "prediction": prediction}]
        if len(found) != 1:
            raise KeyError(f"fig11 has no {prediction} error of {quantity} for {activation}.")
        return found[0]

    def markdown(self) -> str:
        """The table of mean errors and fitted slopes (``Scaling.label``)."""
        p = self.protocol
        lines = [f"Two-class MNIST, {self.n_train} training images, one hidden layer, "
                 f"learning rate {p.learning_rate}, {p.steps} GD steps, {p.inits} "
                 "initializations per width. Error = max over recorded steps of |prediction - "
                 "actual| (over training images, test images, or Theta(x, a) components); "
                 "mean over initializations. 'log-log slope' is the least-squares slope of "
                 "log(mean error) against log(width), a description without an interval; "
                 "'fitted' is the exponent with its 95% CI where the samples carry one (a "
                 "t-interval needs 8 initializations per width, the bootstrap 30, and every fit "
                 "3 resolved widths), else 'not fitted'.", ""]
        head = " | ".join(f"n={w}" for w in p.widths)
        lines += [f"| activation | quantity | prediction | {head} | log-log slope | "
                  "fitted [95% CI] |",
                  "|---|---|---|" + "---|" * len(p.widths) + "---|---|"]
        for s in self.scalings:
            cells = " | ".join(f"{m:.2e}" for m in s.values)
            slope = np.polyfit(np.log(s.widths), np.log(s.values), 1)[0]
            lines.append(f"| {s.labels['activation']} | {s.labels['quantity']} | "
                         f"{s.labels['prediction'].replace('_', ' ')} | {cells} | "
                         f"{slope:+.2f} | {s.label()} |")
        return "\n".join(lines)

    def report(self) -> Report:
        """The ``results.Report`` that ``reproduce fig11`` commits."""
        data = {"inputs": {"digits": [0, 1], "n_train": self.n_train, "n_test": self.n_test,
                           "loss": "sum"},
                "errors": [{"activation": a, "prediction": p, "quantity": q,
                            "errors": e.tolist()} for (a, p, q), e in self.errors.items()],
                "examples": [{"activation": a, "width": w, **t.to_json()}
                             for (a, w), t in self.examples.items()]}
        return Report("fig11", dataclasses.asdict(self.protocol), self.scalings, data,
                      self.markdown())

    @classmethod
    def from_report(cls, report: Report) -> Fig11:
        """The ``Fig11`` of a committed report (``results.load("fig11", profile)``)."""
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in report.protocol.items()}
        data = report.data
        return cls(Fig11Protocol(**fields), report.scalings,
                   {(e["activation"], e["prediction"], e["quantity"]): np.asarray(e["errors"])
                    for e in data["errors"]},
                   {(e["activation"], int(e["width"])): Traces.from_json(e)
                    for e in data["examples"]},
                   int(data["inputs"]["n_train"]), int(data["inputs"]["n_test"]))


def sweep(protocol: Fig11Protocol, progress: bool = True) -> Fig11:
    """Every run of ``protocol`` against its predictions (``trajectory``, cached per run),
    and the error of each prediction against width. Computes in float64."""
    data = protocol.data()
    shape = (len(protocol.widths), protocol.inits)
    errors = {(a, p, q): np.zeros(shape) for a in protocol.activations for p in PREDICTIONS
              for q in QUANTITIES}
    jobs = [(a, i, w, s) for a in protocol.activations for i, w in enumerate(protocol.widths)
            for s in range(protocol.inits)]
    for a, i, width, seed in tqdm(jobs, desc="fig11", disable=not progress, leave=False):
        for p, per in trajectory(protocol.run(a, width, seed)).errors().items():
            for q, e in per.items():
                errors[a, p, q][i, seed] = e
    examples = {(a, w): trajectory(protocol.run(a, w, 0)).trace()
                for a in protocol.activations for w in (protocol.widths[0], protocol.widths[-1])}
    return Fig11.from_errors(protocol, errors, examples, len(data.y), len(data.x_test))


def fig11(profile: str) -> Report:
    """``reproduce fig11``: the error sweep of ``Fig11Protocol.for_profile(profile)`` and
    example trajectories."""
    return sweep(Fig11Protocol.for_profile(profile)).report()
