"""Training by gradient descent and SGD on the MSE loss, recording f and Theta (Sec. 3, App. E.1).

Loss convention (``TrainConfig.loss``):

- ``"mean"``: L = sum_{a in batch} |f(x_a) - y_a|^2 / (2 B), so a GD step moves f by
  -eta Theta (f - y) / N to first order (the convention that makes eta = 1.0 stable on
  thousands of MNIST images, Fig. 1a);
- ``"sum"``: L = sum_a |f(x_a) - y_a|^2 / 2, the paper's eq. (7) form: f moves by
  -eta Theta (f - y).

``loss_scale`` gives that 1/B or 1; recorded losses use the same convention on the full
training set. GD is stable for eta < 2 / lambda_max(loss_scale * Theta_0).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from .config import host_workers, tqdm
from .nets import Network, Params
from .ntk import ntk, ntk_entry, ntk_max_eigenvalue

OPTIMIZERS: tuple[str, ...] = ("gd", "sgd")
LOSSES: tuple[str, ...] = ("mean", "sum")

#: Folded into the SGD seed's key so the minibatch draws never reuse a key that another
#: computation derives from the same seed (``fold_in(key(seed), width)`` for initializations).
MINIBATCH_STREAM = 2**31 - 1


class DivergenceError(ValueError):
    """Training diverged: the loss became NaN/inf or grew past its bound."""


def log_steps(steps: int, per_octave: int = 1) -> tuple[int, ...]:
    """0, then about ``per_octave`` log-spaced steps per doubling up to ``steps`` (included)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}.")
    if steps == 0:
        return (0,)
    grid = np.exp2(np.arange(0, per_octave * math.log2(steps) + 1) / per_octave)
    return tuple(sorted({0, steps, *np.round(grid).astype(int).clip(1, steps).tolist()}))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes:
      learning_rate: eta.
      steps: the number of optimizer steps.
      optimizer: ``"gd"`` (full batch) or ``"sgd"`` (minibatches of ``batch_size`` drawn
        without replacement, fresh each step).
      batch_size: SGD minibatch size (ignored for GD).
      record_steps: steps at which f, Theta and the loss are recorded (0 = initialization);
        None: ``log_steps(steps)``.
      loss: ``"mean"`` or ``"sum"`` normalization of the MSE loss (module docstring).
      seed: the seed of the SGD minibatch draws (the stream ``fold_in(key(seed),
        MINIBATCH_STREAM)``, apart from any key derived from the same seed by folding in a
        width or an index).
      diverge_factor: stop when the loss exceeds this multiple of its initial value.
    """

    learning_rate: float = 1.0
    steps: int = 1024
    optimizer: str = "gd"
    batch_size: int | None = None
    record_steps: tuple[int, ...] | None = None
    loss: str = "mean"
    seed: int = 0
    diverge_factor: float = 100.0

    def __post_init__(self) -> None:
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}.")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {self.steps!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
        if self.optimizer == "sgd" and (self.batch_size is None or self.batch_size <= 0):
            raise ValueError("optimizer 'sgd' needs a positive batch_size.")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.record_steps is not None:
            steps = tuple(int(s) for s in self.record_steps)
            if not steps or list(steps) != sorted(set(steps)) or steps[0] < 0 \
                    or steps[-1] > self.steps:
                raise ValueError(
                    f"record_steps must be increasing steps in [0, {self.steps}], got {steps}.")
            object.__setattr__(self, "record_steps", steps)

    @property
    def records(self) -> tuple[int, ...]:
        """The recorded steps."""
        return self.record_steps if self.record_steps is not None else log_steps(self.steps)

    def batch(self, n_train: int) -> int:
        """The number of examples per step."""
        if self.optimizer == "gd":
            return n_train
        if self.batch_size > n_train:
            raise ValueError(f"batch_size {self.batch_size} exceeds the {n_train} training "
                             "examples; lower it or use optimizer 'gd'.")
        return self.batch_size


def loss_scale(config: TrainConfig, batch: int) -> float:
    """The factor c in L = c sum |f - y|^2 / 2: 1/batch (``"mean"``) or 1 (``"sum"``)."""
    return 1.0 / batch if config.loss == "mean" else 1.0


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """A recorded training run (a leading axis I of initializations from ``train_many``).

    Attributes:
      steps: (R,) the recorded steps.
      f: ([I,] R, N_eval, k) network outputs on the evaluation inputs.
      theta: ([I,] R, M[, k, k]) recorded Theta components, ([I,] R, N, N[, k, k]) the
        full training kernel, or None when neither was asked for.
      loss: ([I,] R) the training loss (``TrainConfig.loss`` convention, full training set).
      config: the training configuration.
      params: the parameters after the last step (stacked over I for ``train_many``).
    """

    steps: np.ndarray
    f: np.ndarray
    theta: np.ndarray | None
    loss: np.ndarray
    config: TrainConfig
    params: Params


def _mse(net: Network, params: Params, x: jax.Array, y: jax.Array, scale: float) -> jax.Array:
    return 0.5 * scale * jnp.sum((net.apply(params, x) - y) ** 2)


def _run(net: Network, config: TrainConfig, params: Params, x: jax.Array, y: jax.Array,
         x_eval: jax.Array, pairs: jax.Array | None, full_kernel: bool):
    """One run as a ``lax.scan`` over recording intervals, each a loop of optimizer steps."""
    n_train = x.shape[0]
    batch = config.batch(n_train)
    scale = loss_scale(config, batch)
    full_scale = loss_scale(config, n_train)
    optimizer = optax.sgd(config.learning_rate)
    key = jax.random.fold_in(jax.random.key(config.seed), MINIBATCH_STREAM)

    def step(t, carry):
        p, state = carry
        if config.optimizer == "gd":
            xb, yb = x, y
        else:
            idx = jax.random.permutation(jax.random.fold_in(key, t), n_train)[:batch]
            xb, yb = x[idx], y[idx]
        grads = jax.grad(_mse, argnums=1)(net, p, xb, yb, scale)
        updates, state = optimizer.update(grads, state, p)
        return optax.apply_updates(p, updates), state

    def record(p):
        out = {"f": net.apply(p, x_eval), "loss": _mse(net, p, x, y, full_scale)}
        if full_kernel:
            out["theta"] = ntk(net, p, x)
        elif pairs is not None:
            out["theta"] = jax.vmap(lambda i, j: ntk_entry(net, p, x_eval[i], x_eval[j]))(
                pairs[:, 0], pairs[:, 1])
        return out

    def interval(carry, bounds):
        start, stop = bounds
        carry = jax.lax.fori_loop(start, stop, step, carry)
        return carry, record(carry[0])

    records = jnp.asarray(config.records)
    bounds = jnp.stack([jnp.concatenate([jnp.zeros(1, records.dtype), records[:-1]]), records],
                       axis=1)
    (final, _), out = jax.lax.scan(interval, (params, optimizer.init(params)), bounds)
    return out, final


_run_jit = jax.jit(_run, static_argnums=(0, 1, 7))
_run_many = jax.jit(jax.vmap(_run, in_axes=(None, None, 0, None, None, None, 0, None)),
                    static_argnums=(0, 1, 7))


def _prepare(net: Network, x: ArrayLike, y: ArrayLike, x_eval: ArrayLike | None):
    dtype = jnp.result_type(float)
    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y, dtype)
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"x has shape {x.shape}; pass training inputs (N, {net.input_dim}).")
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (x.shape[0], net.outputs):
        raise ValueError(f"y has shape {y.shape}; expected ({x.shape[0]}, {net.outputs}).")
    x_eval = x if x_eval is None else jnp.asarray(x_eval, dtype)
    if x_eval.ndim != 2 or x_eval.shape[1] != net.input_dim:
        raise ValueError(f"x_eval has shape {x_eval.shape}; expected (M, {net.input_dim}).")
    return x, y, x_eval


def _check_pairs(pairs: ArrayLike | None, n_eval: int, lead: tuple[int, ...]):
    if pairs is None:
        return None
    pairs = jnp.asarray(pairs, jnp.int32)
    if pairs.shape[:-2] != lead or pairs.shape[-1] != 2 or pairs.ndim != len(lead) + 2:
        raise ValueError(f"pairs has shape {pairs.shape}; expected {lead + ('M', 2)} indices "
                         "into the evaluation inputs.")
    if int(pairs.min()) < 0 or int(pairs.max()) >= n_eval:
        raise ValueError(f"pairs index outside the {n_eval} evaluation inputs.")
    return pairs


def _check_divergence(net: Network, params: Params, x: jax.Array, loss: np.ndarray,
                      config: TrainConfig, stacked: bool) -> None:
    """Raise ``DivergenceError`` naming eta and the GD bound 2 / lambda_max(c Theta_0)."""
    loss = np.atleast_2d(loss)
    bad = ~np.isfinite(loss) | (loss > config.diverge_factor * loss[:, :1])
    if not bad.any():
        return
    run, where = np.argwhere(bad)[0]
    first = jax.tree.map(lambda a: a[run], params) if stacked else params
    scale = loss_scale(config, x.shape[0])
    lam = scale * ntk_max_eigenvalue(net, first, x)
    raise DivergenceError(
        f"training diverged at learning rate {config.learning_rate:g} (loss {loss[run, where]:.3g}"
        f" at step {config.records[where]}, initial {loss[run, 0]:.3g}); full-batch GD is "
        f"stable for learning rates below 2/lambda_max(Theta_0) = {2 / lam:.3g} "
        f"({config.loss} loss); lower the learning rate.")


def train(net: Network, params: Params, x: ArrayLike, y: ArrayLike, config: TrainConfig,
          x_eval: ArrayLike | None = None, pairs: ArrayLike | None = None,
          full_kernel: bool = False) -> Trajectory:
    """Train one initialization with GD/SGD on the MSE loss; record f, Theta and the loss.

    Args:
      net, params: the network and its initialization.
      x, y: training inputs (N, D) and targets (N,) or (N, k).
      config: learning rate, steps, optimizer, batch, recorded steps, loss convention.
      x_eval: inputs on which f is recorded (default: ``x``).
      pairs: (M, 2) indices into ``x_eval``: record Theta(x_eval[i], x_eval[j]).
      full_kernel: record the full training kernel Theta(X, X) instead.

    Raises:
      DivergenceError: (a ``ValueError``) on a NaN/inf or growing loss.
    """
    x, y, x_eval = _prepare(net, x, y, x_eval)
    pairs = _check_pairs(pairs, x_eval.shape[0], ())
    out, final = jax.device_get(
        _run_jit(net, config, params, x, y, x_eval, pairs, full_kernel))
    _check_divergence(net, params, x, out["loss"], config, stacked=False)
    return Trajectory(np.asarray(config.records), out["f"], out.get("theta"), out["loss"],
                      config, final)


def _workers() -> int:
    """Chunks run at once: ``config.host_workers`` on a CPU backend, else one."""
    return host_workers() if jax.default_backend() == "cpu" else 1


def parallel_chunks(count: int) -> int:
    """The ``train_many`` chunk that spreads ``count`` initializations evenly over the
    chunks run at once."""
    return max(1, -(-count // _workers()))


def train_many(net: Network, params: Params, x: ArrayLike, y: ArrayLike, config: TrainConfig,
               x_eval: ArrayLike | None = None, pairs: ArrayLike | None = None,
               full_kernel: bool = False, chunk: int = 8, progress: bool = True) -> Trajectory:
    """``train`` ``vmap``-ped over stacked initializations (``init_many``), ``chunk`` at a time.

    On a CPU the chunks run on ``config.host_workers`` threads at once (one compiled program
    runs on about one core); the answers do not depend on that. ``pairs`` is (I, M, 2): each
    initialization may record its own components.
    """
    x, y, x_eval = _prepare(net, x, y, x_eval)
    count = jax.tree.leaves(params)[0].shape[0]
    pairs = _check_pairs(pairs, x_eval.shape[0], (count,))
    starts = range(0, count, chunk)

    def run(start: int):
        part = jax.tree.map(lambda a: a[start : start + chunk], params)
        sub = None if pairs is None else pairs[start : start + chunk]
        return jax.device_get(_run_many(net, config, part, x, y, x_eval, sub, full_kernel))

    with concurrent.futures.ThreadPoolExecutor(min(len(starts), _workers())) as pool:
        futures = [pool.submit(run, start) for start in starts]
        for _ in tqdm(concurrent.futures.as_completed(futures), total=len(futures),
                      desc=f"train n={net.widths[-1]}", disable=not progress, leave=False):
            pass
        outs, finals = zip(*(future.result() for future in futures), strict=True)
    out = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    _check_divergence(net, params, x, out["loss"], config, stacked=True)
    final = jax.tree.map(lambda *parts: np.concatenate(parts), *finals)
    return Trajectory(np.asarray(config.records), out["f"], out.get("theta"), out["loss"],
                      config, final)
