"""The NTK during training, measured (Sec. 3, App. D.3, E.1, E.2; Fig. 1a).

- ``kernel_drift``: Fig. 1a. GD and SGD on two-class MNIST; mean |Theta_t - Theta_0| of one
  randomly chosen component after ``steps`` steps vs width, fitted to n^s (paper: s = -1,
  Lemma 1 / Thm 11; Jacot et al.'s bound: -1/2). The same runs give Var[Theta_0] ~ n^-1
  (Thm 10) and Var[Theta_t - Theta_0] ~ n^-2 (Thm 11).
- ``step_linearity``: App. E.2 / Thm 12. One GD step moves f by -eta c Theta_0 (f_0 - y)
  plus a remainder that falls like 1/n, at every learning rate.
- ``infinite_width_limit``: E[Theta_0(x, x')] - Theta_inf(x, x') = O(1/n) against the
  analytic kernel of ``kernels.infinite_width``.

Every unit of work (one activation, optimizer and width) goes through ``cache.cached``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from .. import cache, config
from ..data import load_mnist
from ..dynamics import TrainConfig, log_steps, loss_scale, train_many
from ..fits import Fit, NotFittable, fit_exponent
from ..kernels import infinite_width
from ..nets import Network, init_many
from ..ntk import ntk_entry, ntk_vp


@dataclasses.dataclass(frozen=True)
class DriftSetup:
    """Fig. 1a protocol (App. A.2): two-class MNIST (0 vs 1), input scaling D^-1/2 (eq. 15).

    Attributes:
      activations, optimizers: what to compare (``"gd"``, ``"sgd"``).
      widths: hidden widths n.
      depth: hidden layers.
      samples_per_class: training images per digit.
      steps, learning_rate, batch_size: training (SGD minibatch ``batch_size``); mean loss.
      inits: initializations per width.
      components: Theta components recorded per run (the first is Fig. 1a's single one);
        the drift is also averaged over them, which cuts its Monte Carlo noise.
      seed: drives the data subsample, the chosen component, inits and SGD batches.
    """

    activations: tuple[str, ...] = ("linear", "relu", "tanh", "erf")
    optimizers: tuple[str, ...] = ("gd", "sgd")
    widths: tuple[int, ...] = (64, 128, 256, 512)
    depth: int = 1
    samples_per_class: int = 8
    steps: int = 1024
    learning_rate: float = 1.0
    batch_size: int = 4
    inits: int = 8
    components: int = 16
    seed: int = 0

    def network(self, activation: str, width: int) -> Network:
        return Network(input_dim=784, width=width, depth=self.depth, activation=activation,
                       input_scaling=True)

    def train_config(self, optimizer: str) -> TrainConfig:
        return TrainConfig(learning_rate=self.learning_rate, steps=self.steps,
                           optimizer=optimizer, batch_size=self.batch_size,
                           record_steps=log_steps(self.steps), seed=self.seed)


DRIFT_PROFILES = {
    "quick": DriftSetup(activations=("relu", "tanh"), widths=(32, 64, 128), steps=128,
                        samples_per_class=4, batch_size=2, inits=8),
    "standard": DriftSetup(),
    "paper": DriftSetup(widths=(64, 128, 256, 512, 1024, 2048, 4096), depth=2,
                        samples_per_class=1000, batch_size=100, inits=100),
}


def mnist_pair(samples_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-class MNIST (0 -> -1, 1 -> +1), pixels in [0, 1]: (x, y)."""
    data = load_mnist((0, 1), samples_per_class, "train", seed)
    return data.x, data.y


def component(count: int, seed: int) -> tuple[int, int]:
    """The randomly chosen component (i, j), i != j, of the training kernel."""
    i, j = np.random.default_rng(seed).choice(count, 2, replace=False)
    return int(i), int(j)


def components(count: int, number: int, seed: int) -> np.ndarray:
    """(number, 2) off-diagonal components: ``component(count, seed)`` first, then random."""
    rng = np.random.default_rng(seed + 1)
    rest = [rng.choice(count, 2, replace=False) for _ in range(number - 1)]
    return np.array([component(count, seed), *rest], dtype=int).reshape(number, 2)


@dataclasses.dataclass(frozen=True)
class DriftResult:
    """Fig. 1a and Thm 10-11 measurements.

    Attributes:
      setup: the protocol.
      components: (M, 2) training-set indices (i, j) of the recorded Theta components;
        row 0 is the single randomly chosen component of Fig. 1a.
      steps: (R,) recorded steps.
      theta: (A, O, W, I, M, R) Theta_t(x_i, x_j) per activation, optimizer, width, init,
        component, step.
      loss: (A, O, W, I, R) mean training loss.
      drift: {"act/opt": Fit} of mean |Theta_T - Theta_0| vs width (T = last step), each
        initialization's |Theta_T - Theta_0| averaged over the M components.
      drift_single: the same for component 0 alone (the paper's protocol).
      variance_init: {"act": Fit} of Var[Theta_0] of component 0 (GD runs; SGD uses the
        same initializations).
      variance_drift: {"act/opt": Fit} of Var[Theta_T - Theta_0] of component 0.
    """

    setup: DriftSetup
    components: np.ndarray
    steps: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    drift: dict[str, Fit | None]
    drift_single: dict[str, Fit | None]
    variance_init: dict[str, Fit | None]
    variance_drift: dict[str, Fit | None]

    def mean_drift(self) -> np.ndarray:
        """(A, O, W, I, R) |Theta_t - Theta_0| averaged over the recorded components."""
        return np.abs(self.theta - self.theta[..., :1]).mean(-2)


def _fit(widths, samples, statistic: str, seed: int) -> Fit | None:
    try:
        return fit_exponent(widths, samples, statistic, seed=seed)
    except NotFittable:
        return None


def _drift_unit(setup: DriftSetup, activation: str, optimizer: str, width: int,
                pairs: np.ndarray, progress: bool) -> dict:
    net = setup.network(activation, width)
    train_config = setup.train_config(optimizer)

    def compute() -> dict:
        x, y = mnist_pair(setup.samples_per_class, setup.seed)
        key = jax.random.fold_in(jax.random.PRNGKey(setup.seed), width)
        params = init_many(net, key, setup.inits)
        every = np.broadcast_to(pairs, (setup.inits, *pairs.shape))
        run = train_many(net, params, x, y, train_config, pairs=every, progress=progress)
        return {"theta": np.swapaxes(run.theta, 1, 2), "loss": run.loss}

    key_params = {"net": net, "train": train_config, "inits": setup.inits, "pairs": pairs,
                  "samples_per_class": setup.samples_per_class, "seed": setup.seed}
    return cache.cached("fig1a_drift", key_params, compute)


def kernel_drift(setup: DriftSetup, progress: bool = True) -> DriftResult:
    """Fig. 1a: train every (activation, optimizer, width) and fit the kernel drift."""
    pairs = components(2 * setup.samples_per_class, setup.components, setup.seed)
    units = [(a, o, w) for a in setup.activations for o in setup.optimizers
             for w in setup.widths]
    entries = {}
    for a, o, w in tqdm(units, desc="fig1a", disable=not progress):
        entries[a, o, w] = _drift_unit(setup, a, o, w, pairs, progress)
    shape = (len(setup.activations), len(setup.optimizers), len(setup.widths))
    theta = np.stack([entries[u]["theta"] for u in units]).reshape(
        *shape, setup.inits, len(pairs), -1)
    loss = np.stack([entries[u]["loss"] for u in units]).reshape(*shape, setup.inits, -1)
    change = theta[..., 0, -1] - theta[..., 0, 0]
    averaged = np.abs(theta[..., -1] - theta[..., 0]).mean(-1)
    drift, single, variance_drift, variance_init = {}, {}, {}, {}
    for ia, a in enumerate(setup.activations):
        variance_init[a] = _fit(setup.widths, theta[ia, 0, :, :, 0, 0], "variance", setup.seed)
        for io, o in enumerate(setup.optimizers):
            name = f"{a}/{o}"
            drift[name] = _fit(setup.widths, averaged[ia, io], "mean", setup.seed)
            single[name] = _fit(setup.widths, np.abs(change[ia, io]), "mean", setup.seed)
            variance_drift[name] = _fit(setup.widths, change[ia, io], "variance", setup.seed)
    return DriftResult(setup, pairs, np.asarray(log_steps(setup.steps)), theta, loss, drift,
                       single, variance_init, variance_drift)


@dataclasses.dataclass(frozen=True)
class LinearityResult:
    """App. E.2: the remainder r = f_1 - f_0 + eta c Theta_0 (f_0 - y) of one GD step.

    Attributes:
      etas: (E,) learning rates.
      widths: (W,) widths.
      remainder: (E, W, I) RMS over the training set of r, per initialization.
      step: (E, W, I) RMS of f_1 - f_0 (for scale).
      fits: {eta: Fit} of mean RMS remainder vs width (expected slope -1).
    """

    activation: str
    depth: int
    etas: np.ndarray
    widths: np.ndarray
    remainder: np.ndarray
    step: np.ndarray
    fits: dict[float, Fit | None]


def _one_step(net: Network, params, x: jax.Array, y: jax.Array, eta: float):
    """RMS of f_1 - f_0 and of its part beyond -eta Theta_0 dl/df (mean loss)."""
    scale = loss_scale(TrainConfig(), x.shape[0])

    def loss(p):
        return 0.5 * scale * jnp.sum((net.apply(p, x) - y) ** 2)

    f0 = net.apply(params, x)
    grads = jax.grad(loss)(params)
    f1 = net.apply(jax.tree.map(lambda p, g: p - eta * g, params, grads), x)
    linear = -eta * scale * ntk_vp(net, params, x, f0 - y)
    rms = lambda v: jnp.sqrt(jnp.mean(v**2))  # noqa: E731
    return rms(f1 - f0 - linear), rms(f1 - f0)


def step_linearity(activation: str = "tanh", depth: int = 1,
                   widths: tuple[int, ...] = (64, 128, 256, 512, 1024),
                   etas: tuple[float, ...] = (1.0, 4.0, 16.0), inits: int = 32,
                   samples_per_class: int = 8, seed: int = 0,
                   progress: bool = True) -> LinearityResult:
    """App. E.2 / Thm 12: the non-linear part of one GD step, vs width for several eta."""
    x, y = (jnp.asarray(a) for a in mnist_pair(samples_per_class, seed))
    remainder = np.zeros((len(etas), len(widths), inits))
    step = np.zeros_like(remainder)
    for iw, width in enumerate(tqdm(widths, desc="one GD step", disable=not progress)):
        net = Network(input_dim=784, width=width, depth=depth, activation=activation,
                      input_scaling=True)

        def compute(net=net, width=width) -> dict:
            params = init_many(net, jax.random.fold_in(jax.random.PRNGKey(seed), width), inits)
            out = [jax.jit(jax.vmap(lambda p, e=eta: _one_step(net, p, x, y, e)))(params)
                   for eta in etas]
            return {"remainder": np.stack([o[0] for o in out]),
                    "step": np.stack([o[1] for o in out])}

        entry = cache.cached("e2_step", {"net": net, "etas": etas, "inits": inits,
                                         "samples_per_class": samples_per_class,
                                         "seed": seed}, compute)
        remainder[:, iw], step[:, iw] = entry["remainder"], entry["step"]
    fits = {float(eta): _fit(widths, remainder[ie], "mean", seed) for ie, eta in enumerate(etas)}
    return LinearityResult(activation, depth, np.asarray(etas), np.asarray(widths), remainder,
                           step, fits)


@dataclasses.dataclass(frozen=True)
class LimitResult:
    """E[Theta_0(x, x')] against the analytic infinite-width NTK.

    Attributes:
      activations: (A,) names; widths: (W,) widths; depth: hidden layers.
      samples: (A, W, I) Theta_0(x_i, x_j) per initialization.
      exact: (A,) Theta_inf(x_i, x_j) (``kernels.infinite_width``).
      fits: {activation: Fit} of |E[Theta_0] - Theta_inf| vs width (widths where the
        difference is below 2 standard errors are unresolved and excluded).
    """

    activations: tuple[str, ...]
    widths: np.ndarray
    depth: int
    component: tuple[int, int]
    samples: np.ndarray
    exact: np.ndarray
    fits: dict[str, Fit | None]


def gram_inputs(x: np.ndarray) -> np.ndarray:
    """Two-dimensional inputs with the same scaled Gram matrix x_a.x_b / D as ``x`` (2, D).

    With Gaussian U the first layer sees the inputs only through U x / sqrt(D), whose law
    depends on x only through that Gram matrix, and so does the U part of Theta: f and
    Theta_0 at (x, x') have the same distribution, at a fraction of the cost.
    """
    gram = np.asarray(x, np.float64) @ np.asarray(x, np.float64).T / x.shape[1]
    return np.linalg.cholesky(2.0 * gram)


def infinite_width_limit(activations: tuple[str, ...] = ("relu", "erf"), depth: int = 2,
                         widths: tuple[int, ...] = (4, 8, 16, 32, 64, 128),
                         inits: int = 20000, samples_per_class: int = 8, seed: int = 0,
                         chunk: int = 5000, progress: bool = True) -> LimitResult:
    """Mean Theta_0 over ``inits`` initializations vs Theta_inf: the O(1/n) approach.

    The component is the Fig. 1a one, computed on ``gram_inputs`` (same distribution).
    """
    images, _ = mnist_pair(samples_per_class, seed)
    i, j = component(len(images), seed)
    x = gram_inputs(images[[i, j]])
    samples = np.zeros((len(activations), len(widths), inits))
    exact = np.zeros(len(activations))
    for ia, activation in enumerate(activations):
        for iw, width in enumerate(tqdm(widths, desc=f"Theta_0 {activation}",
                                        disable=not progress)):
            net = Network(input_dim=2, width=width, depth=depth, activation=activation,
                          input_scaling=True)

            def compute(net=net, width=width) -> dict:
                keys = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed), width),
                                        inits)
                one = jax.jit(jax.vmap(lambda k: ntk_entry(net, net.sample(k), x[0], x[1])))
                return {"theta": np.concatenate([one(keys[s : s + chunk])
                                                 for s in range(0, inits, chunk)])}

            samples[ia, iw] = cache.cached("theta0_limit", {
                "net": net, "inits": inits, "pair": (i, j),
                "samples_per_class": samples_per_class, "seed": seed}, compute)["theta"]
        exact[ia] = infinite_width(net, x).ntk[0, 1]
    fits = {a: _fit(widths, samples[ia] - exact[ia], "mean", seed)
            for ia, a in enumerate(activations)}
    return LimitResult(tuple(activations), np.asarray(widths), depth, (i, j), samples, exact,
                       fits)


LIMIT_PROFILES = {
    "quick": dict(widths=(4, 8, 16, 32), inits=2000),
    "standard": dict(widths=(4, 8, 16, 32, 64), inits=20000),
    "paper": dict(widths=(4, 8, 16, 32, 64, 128, 256), inits=200000),
}
LINEARITY_PROFILES = {
    "quick": dict(widths=(32, 64, 128), inits=16, samples_per_class=8),
    "standard": dict(widths=(64, 128, 256, 512, 1024), inits=32, samples_per_class=8),
    "paper": dict(widths=(64, 128, 256, 512, 1024, 2048, 4096), inits=100,
                  samples_per_class=1000),
}


def profile_settings(profile: str | None = None) -> tuple[DriftSetup, dict, dict]:
    """The Fig. 1a, App. E.2 and infinite-width settings of a profile."""
    return (config.pick(DRIFT_PROFILES, profile), config.pick(LINEARITY_PROFILES, profile),
            config.pick(LIMIT_PROFILES, profile))


def _fit_json(fit: Fit | None) -> dict | None:
    return None if fit is None else dataclasses.asdict(fit)


def _fit_text(fit: Fit | None) -> str:
    if fit is None:
        return "unresolved"
    low, high = fit.slope_ci
    return f"{fit.slope:+.2f} [{low:+.2f}, {high:+.2f}]"


def fig1a(profile: str) -> object:
    """``reproduce fig1a``: kernel drift (Fig. 1a), Thm 10-11 variances, App. E.2 and the
    infinite-width limit, with fitted exponents and 95% bootstrap CIs."""
    from ..results import Report

    drift_setup, linearity_kwargs, limit_kwargs = profile_settings(profile)
    drift = kernel_drift(drift_setup)
    linearity = step_linearity(**linearity_kwargs)
    limit = infinite_width_limit(**limit_kwargs)
    s = drift_setup
    lines = [
        f"Two-class MNIST (0 vs 1), {2 * s.samples_per_class} training images, depth {s.depth},"
        f" input scaling D^-1/2, mean MSE loss, learning rate {s.learning_rate}, {s.steps} "
        f"steps (SGD batch {s.batch_size}), {s.inits} initializations per width "
        f"{list(s.widths)}. Fitted exponents of the width with 95% bootstrap CIs over "
        f"initializations. Drift: each initialization's abs(Theta_T - Theta_0) averaged over "
        f"{s.components} random off-diagonal components; single: the first of them alone, "
        f"Theta(x_{drift.components[0, 0]}, x_{drift.components[0, 1]}), which also gives "
        "the variances.", "",
        "| activation | optimizer | drift (paper -1, Jacot -1/2) | drift, single component "
        "| Var[Theta_T - Theta_0] (Thm 11: -2) | Var[Theta_0] (Thm 10: -1) |",
        "|---|---|---|---|---|---|"]
    for a in s.activations:
        for o in s.optimizers:
            lines.append(f"| {a} | {o} | {_fit_text(drift.drift[f'{a}/{o}'])} | "
                         f"{_fit_text(drift.drift_single[f'{a}/{o}'])} | "
                         f"{_fit_text(drift.variance_drift[f'{a}/{o}'])} | "
                         f"{_fit_text(drift.variance_init[a])} |")
    lines += ["", f"App. E.2 ({linearity.activation}, depth {linearity.depth}): RMS of "
              "f_1 - f_0 + eta Theta_0 (f_0 - y)/N after one GD step, exponent of the width "
              "(expected -1):", "", "| eta | exponent |", "|---|---|"]
    lines += [f"| {eta:g} | {_fit_text(fit)} |" for eta, fit in linearity.fits.items()]
    lines += ["", f"Infinite width (depth {limit.depth}, {limit_kwargs['inits']} "
              "initializations): exponent of abs(E[Theta_0] - Theta_inf) (expected -1; "
              "unresolved widths excluded):", "", "| activation | Theta_inf | exponent "
              "| unresolved widths |", "|---|---|---|---|"]
    for ia, a in enumerate(limit.activations):
        fit = limit.fits[a]
        lines.append(f"| {a} | {limit.exact[ia]:.5f} | {_fit_text(fit)} | "
                     f"{list(fit.unresolved) if fit else 'all'} |")
    payload = {
        "setup": dataclasses.asdict(s),
        "components": drift.components.tolist(),
        "drift": {k: _fit_json(v) for k, v in drift.drift.items()},
        "drift_single": {k: _fit_json(v) for k, v in drift.drift_single.items()},
        "variance_drift": {k: _fit_json(v) for k, v in drift.variance_drift.items()},
        "variance_init": {k: _fit_json(v) for k, v in drift.variance_init.items()},
        "paper": {"drift": -1.0, "jacot_bound": -0.5, "variance_init": -1.0,
                  "variance_drift": -2.0},
        "linearity": {"setup": {**linearity_kwargs, "activation": linearity.activation,
                                "depth": linearity.depth,
                                "etas": linearity.etas.tolist()},
                      "fits": {str(k): _fit_json(v) for k, v in linearity.fits.items()}},
        "infinite_width": {"setup": {**limit_kwargs, "depth": limit.depth},
                           "exact": dict(zip(limit.activations, limit.exact.tolist(), strict=True)),
                           "fits": {k: _fit_json(v) for k, v in limit.fits.items()}},
    }
    return Report(payload, "\n".join(lines))
