"""Figs. 1b-c and 11 (App. E.4): one training run against its own O(1/n) prediction.

Protocol (App. A.2): two-class MNIST (digits 0 and 1), 10 training images per class, full-batch
GD with learning rate 0.1 on the summed MSE (``corrections`` convention), one hidden layer of
width n with a smooth activation, input scaling D^{-1/2}; f is also followed on a few test
images. Each run is compared with four predictions computed from its own initialization:
the constant-kernel (infinite-width) dynamics and the O(1/n) dynamics, each in continuous
time (t = eta * step) and as the discrete GD recursion.

The networks are trained and expanded in the span of their inputs (``operators.
reduce_to_span``), an exact reparametrization that makes width 2^12 cheap.

Beyond the paper's pictures: the error of each prediction, max over recorded steps (and over
inputs / kernel components), against width across initializations, with fitted slopes.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
from tqdm.auto import tqdm

from .. import config, dynamics, fits, operators
from ..cache import cached
from ..data import load_mnist
from ..nets import Network
from ..results import Report
from . import closed_forms as corrections

PREDICTIONS: tuple[str, ...] = ("leading_continuous", "corrected_continuous",
                                "leading_discrete", "corrected_discrete")
QUANTITIES: tuple[str, ...] = ("f_train", "f_test", "theta")
THETA_COLUMNS = 2  # Theta(x, a) is recorded for the first and the last training point a

SETTINGS = {
    "quick": dict(widths=(128, 256, 512), seeds=2, steps=1000, activations=("tanh",),
                  per_class=10),
    "standard": dict(widths=(256, 512, 1024, 2048), seeds=3, steps=10_000,
                     activations=("tanh", "erf", "gelu"), per_class=10),
    "paper": dict(widths=(256, 512, 1024, 2048, 4096), seeds=10, steps=10_000,
                  activations=("tanh", "erf", "gelu"), per_class=10),
}


@dataclasses.dataclass(frozen=True)
class Data:
    """Training set (N = 2 x per_class images) and test images, as float64 arrays."""

    x_train: np.ndarray
    y: np.ndarray
    x_test: np.ndarray


def mnist(per_class: int = 10, test_per_class: int = 2, seed: int = 0) -> Data:
    """Two-class MNIST (0 vs 1, targets -1/+1), the paper's Fig. 11 training set."""
    train = load_mnist((0, 1), per_class, "train", seed)
    test = load_mnist((0, 1), test_per_class, "test", seed)
    return Data(train.x.astype(np.float64), train.y[:, 0].astype(np.float64),
                test.x.astype(np.float64))


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One training run and its predictions on inputs X = (training images, test images).

    Attributes:
      steps: (R,) recorded GD steps.
      n_train: N; rows N.. of X are test images.
      actual_f: (R, M) f of the trained network.
      actual_theta: (R, M, 2) Theta(x, a) for a = the first and the last training image.
      predictions: name -> {"f": (R, M), "theta": (R, M, 2)} for ``PREDICTIONS``.
      timings: seconds for the operators (``tower_s``, short when they were cached), the
        predictions (``predict_s``) and the training run (``train_s``), as first computed.
    """

    steps: np.ndarray
    n_train: int
    actual_f: np.ndarray
    actual_theta: np.ndarray
    predictions: dict[str, dict[str, np.ndarray]]
    timings: dict[str, float]

    def errors(self) -> dict[str, dict[str, float]]:
        """max over steps (and inputs / components) of |prediction - actual|."""
        n = self.n_train
        out = {}
        for name, pred in self.predictions.items():
            df = np.abs(pred["f"] - self.actual_f)
            out[name] = {"f_train": float(df[:, :n].max()), "f_test": float(df[:, n:].max()),
                         "theta": float(np.abs(pred["theta"] - self.actual_theta).max())}
        return out


def _columns(n_train: int) -> list[int]:
    return [0, n_train - 1]


def network(activation: str, width: int, depth: int = 1) -> Network:
    """The Fig. 11 network on MNIST: D = 784 with input scaling, one output."""
    return Network(input_dim=784, width=width, depth=depth, activation=activation,
                   input_scaling=True)


def _reduced(data: Data, activation: str, width: int, depth: int, seed: int):
    net = network(activation, width, depth)
    params = net.sample(jax.random.PRNGKey(seed))
    return operators.reduce_to_span(net, params, np.concatenate([data.x_train, data.x_test]))


def tower_of(data: Data, activation: str, width: int, depth: int = 1,
             seed: int = 0) -> tuple[operators.Tower, float]:
    """The operators of one initialization (cached per initialization) and the seconds taken."""
    config.enable_x64(True)
    key = dict(activation=activation, width=width, depth=depth, seed=seed,
               x_train=data.x_train, y=data.y, x_test=data.x_test)
    start = time.perf_counter()

    def compute():
        r = _reduced(data, activation, width, depth, seed)
        n = len(data.y)
        t = operators.tower(r.net, r.params, r.x[:n], data.y, r.x[n:])
        return dataclasses.asdict(t)

    entry = cached("corrections_tower", key, compute)
    return operators.Tower(**{k: np.asarray(v) for k, v in entry.items()}), \
        time.perf_counter() - start


def predict(tower: operators.Tower, learning_rate: float,
            steps: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The four predictions at the recorded ``steps`` (Theta columns as in ``Comparison``)."""
    cols = _columns(tower.n_train)
    out = {}
    for order in ("leading", "corrected"):
        for name, pred in (
                ("continuous", corrections.continuous(tower, learning_rate * steps, order)),
                ("discrete", corrections.discrete(tower, learning_rate, steps, order))):
            out[f"{order}_{name}"] = {"f": pred.f, "theta": pred.theta[:, :, cols]}
    return out


def compare(activation: str = "tanh", width: int = 1024, seed: int = 0,
            learning_rate: float = 0.1, steps: int = 10_000, depth: int = 1,
            per_octave: int = 4, data: Data | None = None) -> Comparison:
    """Train one initialization and predict it (Figs. 1b-c, 11); cached per setting.

    Raises:
      ValueError: training or the prediction diverged (learning rate too large).
    """
    data = data or mnist()
    config.enable_x64(True)
    record = np.asarray(dynamics.log_steps(steps, per_octave))
    key = dict(activation=activation, width=width, seed=seed, learning_rate=learning_rate,
               steps=steps, depth=depth, per_octave=per_octave, x_train=data.x_train,
               y=data.y, x_test=data.x_test)
    timings: dict[str, float] = {}

    def compute():
        tower, timings["tower_s"] = tower_of(data, activation, width, depth, seed)
        start = time.perf_counter()
        preds = predict(tower, learning_rate, record)
        timings["predict_s"] = time.perf_counter() - start
        r = _reduced(data, activation, width, depth, seed)
        n = len(data.y)
        pairs = np.array([(i, j) for i in range(r.x.shape[0]) for j in _columns(n)])
        start = time.perf_counter()
        cfg = dynamics.TrainConfig(learning_rate=learning_rate, steps=steps, loss="sum",
                                   record_steps=tuple(int(s) for s in record))
        run = dynamics.train(r.net, r.params, r.x[:n], data.y, cfg, x_eval=r.x, pairs=pairs)
        timings["train_s"] = time.perf_counter() - start
        flat = {f"{k}/{q}": v for k, p in preds.items() for q, v in p.items()}
        return {"actual_f": run.f[:, :, 0], "actual_theta": run.theta.reshape(len(record), -1, 2),
                **flat, **{f"time/{k}": v for k, v in timings.items()}}

    entry = cached("fig11_run", key, compute)
    preds = {name: {q: np.asarray(entry[f"{name}/{q}"]) for q in ("f", "theta")}
             for name in PREDICTIONS}
    return Comparison(record, len(data.y), np.asarray(entry["actual_f"]),
                      np.asarray(entry["actual_theta"]), preds,
                      {k: float(entry[f"time/{k}"]) for k in ("tower_s", "predict_s", "train_s")})


def error_sweep(activation: str, widths: tuple[int, ...], seeds: int, steps: int,
                learning_rate: float = 0.1, depth: int = 1, data: Data | None = None,
                progress: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """prediction -> quantity -> (widths, seeds) errors of ``Comparison.errors``."""
    data = data or mnist()
    out = {p: {q: np.zeros((len(widths), seeds)) for q in QUANTITIES} for p in PREDICTIONS}
    jobs = [(i, w, s) for i, w in enumerate(widths) for s in range(seeds)]
    for i, width, seed in tqdm(jobs, desc=f"fig11 {activation}", disable=not progress,
                               leave=False):
        errs = compare(activation, width, seed, learning_rate, steps, depth,
                       data=data).errors()
        for p in PREDICTIONS:
            for q in QUANTITIES:
                out[p][q][i, seed] = errs[p][q]
    return out


def error_fits(widths: tuple[int, ...], errors: dict[str, dict[str, np.ndarray]]) -> dict:
    """Slope of the mean error vs width (``fits.fit_exponent``, bootstrap 95% CI)."""
    out = {}
    for p, per in errors.items():
        out[p] = {}
        for q, e in per.items():
            try:
                fit = fits.fit_exponent(widths, list(e))
                out[p][q] = {"slope": fit.slope, "ci": list(fit.slope_ci),
                             "mean": list(fit.values), "stderr": list(fit.stderr)}
            except fits.NotFittable as err:
                out[p][q] = {"slope": None, "ci": None, "error": str(err),
                             "mean": e.mean(axis=1).tolist(), "stderr": None}
    return out


def _markdown(settings: dict, results: dict) -> str:
    widths = settings["widths"]
    lines = [f"Two-class MNIST, {settings['n_train']} training images, one hidden layer, "
             f"learning rate {settings['learning_rate']}, {settings['steps']} GD steps, "
             f"{settings['seeds']} initializations per width. Error = max over recorded steps "
             "of |prediction - actual| (over training images, test images, or Theta(x, a) "
             "components); mean over initializations; slope of log(error) vs log(width) with "
             "a bootstrap 95% CI.", ""]
    head = " | ".join(f"n={w}" for w in widths)
    lines += [f"| activation | quantity | prediction | {head} | slope [95% CI] |",
              "|---|---|---|" + "---|" * len(widths) + "---|"]
    for act, res in results.items():
        for q in QUANTITIES:
            for p in PREDICTIONS:
                fit = res["fits"][p][q]
                cells = " | ".join(f"{m:.2e}" for m in fit["mean"])
                slope = ("n/a" if fit["slope"] is None else
                         f"{fit['slope']:.2f} [{fit['ci'][0]:.2f}, {fit['ci'][1]:.2f}]")
                lines.append(f"| {act} | {q} | {p.replace('_', ' ')} | {cells} | {slope} |")
    return "\n".join(lines)


def fig11(profile: str) -> Report:
    """``reproduce fig11``: example trajectories and the error-vs-width sweep."""
    s = config.pick(SETTINGS, profile)
    data = mnist(s["per_class"])
    settings = {**s, "learning_rate": 0.1, "depth": 1, "n_train": len(data.y),
                "n_test": len(data.x_test), "loss": "sum", "digits": [0, 1]}
    results = {}
    for act in s["activations"]:
        errors = error_sweep(act, s["widths"], s["seeds"], s["steps"], data=data)
        examples = {}
        for width in (s["widths"][0], s["widths"][-1]):
            c = compare(act, width, 0, 0.1, s["steps"], data=data)
            n = c.n_train
            examples[str(width)] = {
                "steps": c.steps.tolist(),
                "actual": {"f_train": c.actual_f[:, 0].tolist(),
                           "f_test": c.actual_f[:, n].tolist(),
                           "theta": c.actual_theta[:, 0, 1].tolist()},
                **{p: {"f_train": c.predictions[p]["f"][:, 0].tolist(),
                       "f_test": c.predictions[p]["f"][:, n].tolist(),
                       "theta": c.predictions[p]["theta"][:, 0, 1].tolist()}
                   for p in PREDICTIONS}}
        results[act] = {"errors": {p: {q: e.tolist() for q, e in per.items()}
                                   for p, per in errors.items()},
                        "fits": error_fits(s["widths"], errors), "examples": examples}
    payload = {"settings": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in settings.items()},
               "components": "f_train: training image 0; f_test: test image 0; "
                             "theta: Theta(training image 0, last training image)",
               "results": results}
    return Report(payload, _markdown(settings, results))
