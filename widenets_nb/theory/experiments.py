"""The 1/n theory beside Monte Carlo: protocols and computations for notebook 06.

Three experiments, each a frozen protocol with ``for_profile`` and a computation that takes
an explicit seed and caches every width (or depth) with ``cache.cached``:

- ``coefficient_comparison`` (``CoefficientProtocol``): for a statistic of the registry
  ``statistics.STATISTICS`` (``kernel`` E[f1 f2], ``four_point`` E[f1 f2 f3 f4], and every
  entry added there), the prediction E[C](n) = E_inf + c_1 / n of the recursions and a
  Monte Carlo estimate E_MC(n) with its standard error at several widths. The measured
  coefficient is the weighted least-squares intercept of

      y(n) = n (E_MC(n) - E_inf) = c_1 + c_2 / n,   sd(y(n)) = n SE(n),

  (``fit_coefficient``: the 1/n^2 curvature c_2 fitted, not assumed away), and the
  agreement is z = (c_1 - predicted) / SE(c_1).
  The estimator: for a correlator of plain outputs (``f1 f2``, ``f1 f2 f3 f4``) the readout
  is integrated out exactly (``montecarlo.conditional_moments``: same mean, variance
  O(1/n) instead of O(1)); any other correlator is sampled by ``correlators.estimate.measure``
  (lazy sampler from ``lazy.CROSSOVER_WIDTH``).
- ``null_scan`` and the null test: the activations and components whose kernel coefficient
  vanishes exactly at every depth (computed by the recursions, not assumed), and a Monte
  Carlo coefficient that must agree with 0.
- ``depth_to_width`` (``DepthWidthProtocol``): for ReLU, R = E[Theta^2] / E[Theta]^2 of the
  NTK at one input against beta = d / n, beside Hanin & Nica's exp(5 beta) and the
  first-order line 1 + c beta.

>>> CoefficientProtocol.for_profile("quick").widths
(8, 16, 32)
>>> DepthWidthProtocol.for_profile("standard").betas[-1]
1.0
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import cache, config
from ..correlators.estimate import INPUT_SEED, default_inputs, measure
from ..correlators.lazy import CROSSOVER_WIDTH
from ..correlators.notation import NAMED, parse
from ..nets import ACTIVATIONS, Network
from ..results import Report
from . import statistics
from .montecarlo import conditional_moments

#: |c_1| at or below this times max(1, |E_inf|) counts as exactly zero (the recursions are
#: accurate to ~1e-12 on 2-D rules; a structural zero comes out at rounding level).
NULL_TOLERANCE = 1e-10
#: The estimator of a correlator whose factors are all plain outputs (no derivative
#: letters), and of every other one.
CONDITIONAL = "readout integrated out (theory.montecarlo.conditional_moments)"
SAMPLED = (f"sampled integrand (correlators.estimate.measure; lazy from n = "
           f"{CROSSOVER_WIDTH})")
#: Hanin & Nica (2019), Thm 1: E[Theta(x,x)^2] / E[Theta(x,x)]^2 ~ exp(5 beta), beta =
#: sum_l 1 / n_l, for ReLU networks without biases (two-sided, up to universal constants).
HANIN_NICA_RATE = 5.0
#: Networks per compiled chunk of ``ntk_samples``, and the bytes of normals a chunk may draw.
CHUNK = 1024
MEMORY_BYTES = 1 << 27


def registry() -> dict[str, tuple[Callable[..., statistics.Prediction], str]]:
    """The statistics the recursions predict: name -> (function, correlator), read from
    ``statistics.STATISTICS`` at call time (new entries plug in without changes here)."""
    return dict(statistics.STATISTICS)


def _statistic(name: str) -> tuple[Callable[..., statistics.Prediction], str]:
    entries = registry()
    if name not in entries:
        raise ValueError(f"unknown statistic {name!r}; choose one of {', '.join(entries)}.")
    return entries[name]


def _check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}.")


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


@dataclasses.dataclass(frozen=True)
class CoefficientProtocol:
    """One statistic's prediction against Monte Carlo at several widths.

    Attributes:
      statistic: a name of ``statistics.STATISTICS``.
      activation, depth, bias: the network (``nets.Network``, Gaussian parameters, unit
        scales; ``bias`` adds b_1..b_{d-1}).
      widths: the hidden widths n (all layers equal).
      inits: networks per width.
      seed: derives the networks (width n uses ``fold_in(key(seed), n)``).
      coincide: every input equal to x_1 (diagonal components, e.g. K(x1, x1)).
      input_dim, input_seed: the inputs, ``default_inputs(k, input_dim, input_seed)``.
    """

    statistic: str = "four_point"
    activation: str = "tanh"
    depth: int = 2
    bias: bool = False
    widths: tuple[int, ...] = (8, 16, 32)
    inits: int = 2000
    seed: int = 0
    coincide: bool = False
    input_dim: int = 4
    input_seed: int = INPUT_SEED

    def __post_init__(self) -> None:
        _statistic(self.statistic)
        _check_activation(self.activation)
        _positive("depth", self.depth)
        if isinstance(self.inits, bool) or not isinstance(self.inits, int) or self.inits < 2:
            raise ValueError(f"inits must be an integer >= 2 (a standard error needs two), "
                             f"got {self.inits!r}.")
        if not self.widths:
            raise ValueError("give at least one width.")
        for w in self.widths:
            _positive("width", w)
        object.__setattr__(self, "widths", tuple(sorted(set(int(w) for w in self.widths))))

    @classmethod
    def for_profile(cls, name: str | None = None, **fields: object) -> CoefficientProtocol:
        """E[f1 f2 f3 f4] of a depth-2 tanh network (``fields`` override any field).

        quick: widths 8..32, 2000 networks (a smoke test: the coefficient to ~25%);
        standard: 8..64, 20000 networks; paper: 8..128, 200000 networks (the precision
        reached is in ``benchmarks/results/theory_checks.md``).
        """
        profile = config.profile(name)
        widths, inits = {"quick": ((8, 16, 32), 2000), "standard": ((8, 16, 32, 64), 20000),
                         "paper": ((8, 16, 32, 64, 128), 200000)}[profile]
        return dataclasses.replace(cls(widths=widths, inits=inits), **fields)

    @property
    def correlator(self) -> str:
        """The statistic's correlator (``correlators.notation``)."""
        return _statistic(self.statistic)[1]

    def inputs(self) -> np.ndarray:
        """One input per distinct label of the correlator, (k, input_dim); all x_1 when
        ``coincide``."""
        k = len(parse(self.correlator).inputs)
        x = default_inputs(k, self.input_dim, self.input_seed)
        return np.repeat(x[:1], k, 0) if self.coincide else x

    def network(self, width: int = 1) -> Network:
        """The network at ``width``."""
        return Network(input_dim=self.input_dim, width=width, depth=self.depth,
                       activation=self.activation, bias=self.bias)

    @property
    def estimator(self) -> str:
        """``CONDITIONAL`` for a correlator of plain outputs (two or four), else
        ``SAMPLED``."""
        c = parse(self.correlator)
        plain = not c.variance and all(not f.indices for f in c.factors)
        return CONDITIONAL if plain and c.m in (2, 4) else SAMPLED

    @property
    def label(self) -> str:
        """``"four_point, tanh, depth 2"`` (with ``", biases"``, ``", x_i = x_1"``)."""
        return (f"{self.statistic}, {self.activation}, depth {self.depth}"
                + (", biases" if self.bias else "") + (", x_i = x_1" if self.coincide else ""))


@dataclasses.dataclass(frozen=True)
class CoefficientFit:
    """y(n) = n (E_MC(n) - E_inf) fitted by c_1 + c_2 / n (weighted least squares).

    Attributes:
      c1, c1_se: the 1/n coefficient and its standard error (from the fit's covariance).
      c2, c2_se: the fitted 1/n^2 curvature (0 and None with a single width).
      chi2, dof: weighted residual sum of squares and its degrees of freedom (widths - 2).
    """

    c1: float
    c1_se: float
    c2: float
    c2_se: float | None
    chi2: float
    dof: int

    def curve(self, widths: np.ndarray) -> np.ndarray:
        """c_1 + c_2 / n."""
        return self.c1 + self.c2 / np.asarray(widths, dtype=np.float64)


def _weighted_line(x: np.ndarray, y: np.ndarray, s: np.ndarray, through_origin: bool
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares y = [a +] c x: coefficients and their covariance."""
    a = (x[:, None] if through_origin else np.stack([np.ones_like(x), x], 1)) / s[:, None]
    cov = np.linalg.inv(a.T @ a)
    return cov @ a.T @ (y / s), cov


def fit_coefficient(widths: Sequence[int], y: Sequence[float], y_se: Sequence[float]
                    ) -> CoefficientFit:
    """Weighted least squares of y(n) = c_1 + c_2 / n with weights 1 / y_se^2; a single
    width gives c_1 = y, c_2 = 0 (no curvature can be fitted).

    >>> f = fit_coefficient([8, 16, 32], [2.5, 2.25, 2.125], [0.1, 0.1, 0.1])
    >>> round(f.c1, 12), round(f.c2, 12), f.dof
    (2.0, 4.0, 1)
    """
    n, y, s = (np.asarray(a, dtype=np.float64) for a in (widths, y, y_se))
    if not (n.shape == y.shape == s.shape) or n.size == 0:
        raise ValueError(f"widths, y and y_se must have one equal length >= 1, got "
                         f"{n.shape}, {y.shape}, {s.shape}.")
    if not np.all(s > 0):
        raise ValueError("every standard error must be positive; measure more networks.")
    if n.size == 1:
        return CoefficientFit(float(y[0]), float(s[0]), 0.0, None, 0.0, 0)
    c, cov = _weighted_line(1.0 / n, y, s, through_origin=False)
    chi2 = float(np.sum(((y - c[0] - c[1] / n) / s) ** 2))
    return CoefficientFit(float(c[0]), float(np.sqrt(cov[0, 0])), float(c[1]),
                          float(np.sqrt(cov[1, 1])), chi2, int(n.size - 2))


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A statistic's 1/n prediction and its Monte Carlo measurement.

    Attributes:
      protocol: what was measured.
      infinite_width, predicted: E_inf and the predicted c_1 of the recursions.
      values, stderr: (W,) E_MC(n) and its standard error at ``protocol.widths``.
      counts: (W,) networks behind each value.
      fit: the measured coefficient (``fit_coefficient``).
      estimator: ``CONDITIONAL`` or ``SAMPLED``.
    """

    protocol: CoefficientProtocol
    infinite_width: float
    predicted: float
    values: tuple[float, ...]
    stderr: tuple[float, ...]
    counts: tuple[int, ...]
    fit: CoefficientFit
    estimator: str

    @property
    def widths(self) -> tuple[int, ...]:
        return self.protocol.widths

    @property
    def residuals(self) -> np.ndarray:
        """n (E_MC(n) - E_inf) at every width."""
        return np.asarray(self.widths) * (np.asarray(self.values) - self.infinite_width)

    @property
    def residual_se(self) -> np.ndarray:
        """n SE(n)."""
        return np.asarray(self.widths) * np.asarray(self.stderr)

    @property
    def z(self) -> float:
        """(measured c_1 - predicted c_1) / SE(c_1)."""
        return (self.fit.c1 - self.predicted) / self.fit.c1_se

    @property
    def relative_se(self) -> float:
        """SE(c_1) / |predicted c_1| (inf for a vanishing prediction)."""
        return self.fit.c1_se / abs(self.predicted) if self.predicted else float("inf")

    def summary(self) -> str:
        """One line: prediction, measurement, agreement in standard errors."""
        return (f"{self.protocol.label}: E_inf = {self.infinite_width:.6g}, predicted "
                f"c_1 = {self.predicted:+.5g}, Monte Carlo c_1 = {self.fit.c1:+.5g} ± "
                f"{self.fit.c1_se:.2g} (curvature c_2 = {self.fit.c2:+.3g}, chi2 "
                f"{self.fit.chi2:.1f}/{self.fit.dof}), z = {self.z:+.1f} SE; widths "
                f"{list(self.widths)}, {min(self.counts)} networks per width")


def prediction(protocol: CoefficientProtocol) -> statistics.Prediction:
    """The recursions' E_inf and c_1 (0-d arrays) of ``protocol``'s statistic."""
    function, correlator = _statistic(protocol.statistic)
    x = protocol.inputs()
    if protocol.coincide and len(parse(correlator).inputs) == 2:
        x = x[:1]  # the registry's spelling of x_1 = x_2
    return function(protocol.network(), x)


def coverage_gap(protocol: CoefficientProtocol) -> str | None:
    """Why the recursions do not predict ``protocol``'s statistic (the one-line message of
    ``prediction``'s ValueError, e.g. ReLU's dNTK), or None where they do."""
    try:
        prediction(protocol)
    except ValueError as err:
        return str(err)
    return None


def _measure_width(p: CoefficientProtocol, width: int, progress: bool
                   ) -> tuple[float, float, int]:
    """E_MC(n) and its standard error at one width (cached on disk)."""
    net, x = p.network(width), p.inputs()
    if p.estimator == SAMPLED:
        m = measure(p.correlator, (width,), p.inits, p.seed, activation=p.activation,
                    depth=p.depth, bias=p.bias, input_dim=p.input_dim, inputs=x,
                    use_cache=True, progress=progress)
        return float(m.values[0]), float(m.stderr[0]), p.inits

    def compute() -> dict[str, float]:
        key = jax.random.fold_in(jax.random.key(p.seed), width)
        pair, four = conditional_moments(net, x, p.inits, key)
        e = pair if four is None else four
        index = () if four is not None else (0, -1)
        return {"mean": float(np.asarray(e.mean)[index]),
                "stderr": float(np.asarray(e.stderr)[index])}

    entry = cache.cached("theory-coefficient", {
        "network": net, "inputs": x, "inits": p.inits, "seed": p.seed,
        "correlator": p.correlator, "estimator": p.estimator}, compute)
    return float(entry["mean"]), float(entry["stderr"]), p.inits


def coefficient_comparison(protocol: CoefficientProtocol, progress: bool = False
                           ) -> Comparison:
    """The recursions' prediction of ``protocol.statistic`` and its Monte Carlo estimate at
    every width (each width cached), with the fitted coefficient (``fit_coefficient``)."""
    pred = prediction(protocol)
    e_inf, c1 = float(pred.infinite_width), float(pred.coefficient_1_over_n)
    measured = [_measure_width(protocol, w, progress) for w in protocol.widths]
    values, stderr, counts = (tuple(v) for v in zip(*measured, strict=True))
    n = np.asarray(protocol.widths, dtype=np.float64)
    fit = fit_coefficient(n, n * (np.asarray(values) - e_inf), n * np.asarray(stderr))
    return Comparison(protocol, e_inf, c1, values, stderr, counts, fit, protocol.estimator)


@dataclasses.dataclass(frozen=True)
class NullEntry:
    """The 1/n coefficient of one two-input mean statistic for one activation, bias choice
    and component (``"x1, x1"`` or ``"x1, x2"``).

    ``coefficient`` is None where the recursions do not cover the case (``reason`` says
    why); ``vanishes``: |c_1| <= ``NULL_TOLERANCE`` max(1, |E_inf|).
    """

    statistic: str
    activation: str
    bias: bool
    component: str
    infinite_width: float | None
    coefficient: float | None
    reason: str = ""

    @property
    def vanishes(self) -> bool:
        return self.coefficient is not None and abs(self.coefficient) <= NULL_TOLERANCE * max(
            1.0, abs(self.infinite_width or 0.0))


def null_statistics() -> tuple[str, ...]:
    """The registry's means of two inputs (``kernel``, ``ntk_mean``, ...): the statistics
    whose 1/n coefficient can vanish while E_inf does not."""
    return tuple(name for name, (_, c) in registry().items()
                 if not parse(c).variance and len(parse(c).inputs) == 2)


def null_scan(depths: Sequence[int] = (2, 3), activations: Sequence[str] | None = None
              ) -> tuple[NullEntry, ...]:
    """The predicted 1/n coefficient of every ``null_statistics`` entry for every activation
    of ``nets`` (or ``activations``), with and without biases, on and off the diagonal, at
    each depth; the largest |c_1| over the depths is kept, so an entry vanishes only if it
    does at every depth. (At depth 1 every kernel coefficient vanishes: the first layer is
    exactly Gaussian.)"""
    out = []
    for statistic in null_statistics():
        for activation in activations or tuple(ACTIVATIONS):
            for bias in (False, True):
                for coincide, component in ((True, "x1, x1"), (False, "x1, x2")):
                    worst: tuple[float, float] | None = None
                    reason = ""
                    for depth in depths:
                        p = CoefficientProtocol(statistic, activation, depth, bias,
                                                coincide=coincide)
                        try:
                            pred = prediction(p)
                        except ValueError as err:
                            reason = str(err)
                            break
                        e, c = float(pred.infinite_width), float(pred.coefficient_1_over_n)
                        if worst is None or abs(c) > abs(worst[1]):
                            worst = (e, c)
                    covered = worst is not None and not reason
                    out.append(NullEntry(statistic, activation, bias, component,
                                         worst[0] if covered else None,
                                         worst[1] if covered else None, reason))
    return tuple(out)


def null_markdown(entries: Sequence[NullEntry]) -> str:
    """The scan as a Markdown table: a row per activation and bias choice, a column per
    statistic and component."""
    columns = list(dict.fromkeys((e.statistic, e.component) for e in entries))
    rows = list(dict.fromkeys((e.activation, e.bias) for e in entries))
    cell = {(e.statistic, e.component, e.activation, e.bias): e for e in entries}
    lines = ["| activation | " + " | ".join(f"{s} ({c})" for s, c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for activation, bias in rows:
        texts = []
        for statistic, component in columns:
            e = cell[(statistic, component, activation, bias)]
            texts.append("not covered" if e.coefficient is None else
                         "**0** (exact)" if e.vanishes else f"{e.coefficient:+.4g}")
        name = f"{activation}{', biases' if bias else ''}"
        lines.append(f"| {name} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class DepthWidthProtocol:
    """R = E[Theta(x,x)^2] / E[Theta(x,x)]^2 of ReLU networks at fixed width, many depths.

    Attributes:
      width: n (every hidden layer).
      depths: the depths d (beta = d / n).
      inits: networks per depth.
      seed: derives the networks (depth d uses ``fold_in(key(seed), d)``).
      input_dim, input_seed: the input x_1 of ``default_inputs`` (R does not depend on it:
        without biases Theta(x, x) / |x|^2 has a law invariant under rotations of x).
    """

    width: int = 16
    depths: tuple[int, ...] = (1, 2, 4, 8, 16)
    inits: int = 1000
    seed: int = 0
    input_dim: int = 4
    input_seed: int = INPUT_SEED

    def __post_init__(self) -> None:
        _positive("width", self.width)
        if isinstance(self.inits, bool) or not isinstance(self.inits, int) or self.inits < 2:
            raise ValueError(f"inits must be an integer >= 2, got {self.inits!r}.")
        if not self.depths:
            raise ValueError("give at least one depth.")
        for d in self.depths:
            _positive("depth", d)
        object.__setattr__(self, "depths", tuple(sorted(set(int(d) for d in self.depths))))

    @classmethod
    def for_profile(cls, name: str | None = None, **fields: object) -> DepthWidthProtocol:
        """quick: n = 16, d = 1..16 (beta 0.06..1), 1000 networks; standard: n = 128,
        d = 1..128 (beta 0.008..1), 4000; paper: n = 256, d = 2..256, 20000."""
        profile = config.profile(name)
        width, inits = {"quick": (16, 1000), "standard": (128, 4000),
                        "paper": (256, 20000)}[profile]
        return dataclasses.replace(cls(width, depths_for(width), inits), **fields)

    @property
    def betas(self) -> tuple[float, ...]:
        return tuple(d / self.width for d in self.depths)


def depths_for(width: int, low: float = 0.01, high: float = 1.0, points: int = 8
               ) -> tuple[int, ...]:
    """About ``points`` depths d = beta n, beta geometric in [low, high] (d >= 1, distinct).

    >>> depths_for(100)
    (1, 2, 4, 7, 14, 27, 52, 100)
    """
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high for the beta range, got {low}, {high}.")
    return tuple(sorted({max(1, round(b * width)) for b in np.geomspace(low, high, points)}))


def relu_ntk(key: jax.Array, width: int, depth: int, x: jax.Array) -> jax.Array:
    """Theta(x, x) = |grad_theta f(x)|^2 of one ReLU network of ``nets`` (no biases, s_w =
    sqrt 2: R does not depend on s_w), drawn from ``key`` in O(depth n) work, same law as
    drawing its (d - 1) n^2 hidden weights.

    One input meets each hidden W_l in one direction going up, a_l (the layer's
    activations), and one going down, delta (d f / d z_{l+1}). W_l = (W_l a^) a^T +
    W_l P, P = 1 - a^ a^T, with W_l a^ = g_l ~ N(0, 1) and W_l P independent of it and of
    everything that delta depends on; so z_{l+1} = s_w n^-1/2 |a_l| g_l and
    W_l^T delta = a^ (g_l . delta) + |delta| P xi_l with a fresh xi_l ~ N(0, 1). The
    gradient's squared norm is (2/n)|a_d|^2 (V) + sum_l (2/n)|delta_{l+1}|^2 |a_l|^2 (W_l)
    + 2|x|^2 |delta_1|^2 (U)."""
    n, sw = width, 2.0**0.5
    ku, kg, kx, kv = jax.random.split(key, 4)
    g = jax.random.normal(kg, (depth - 1, n), x.dtype)
    xi = jax.random.normal(kx, (depth - 1, n), x.dtype)

    def up(z: jax.Array, g_l: jax.Array) -> tuple[jax.Array, jax.Array]:
        return sw * n**-0.5 * jnp.linalg.norm(jax.nn.relu(z)) * g_l, z

    z_top, zs = jax.lax.scan(up, sw * jnp.linalg.norm(x) * jax.random.normal(ku, (n,), x.dtype),
                             g)
    a_top = jax.nn.relu(z_top)
    delta_top = sw * n**-0.5 * jax.random.normal(kv, (n,), x.dtype) * (z_top > 0)

    def down(delta: jax.Array, layer: tuple[jax.Array, ...]) -> tuple[jax.Array, jax.Array]:
        z, g_l, xi_l = layer
        a = jax.nn.relu(z)
        norm = jnp.linalg.norm(a)
        unit = a / jnp.where(norm > 0, norm, 1.0)
        w_t_delta = unit * (g_l @ delta) + jnp.linalg.norm(delta) * (xi_l - unit * (unit @ xi_l))
        return sw * n**-0.5 * w_t_delta * (z > 0), (2.0 / n) * (delta @ delta) * norm**2

    delta_1, hidden = jax.lax.scan(down, delta_top, (zs, g, xi), reverse=True)
    return (2.0 / n) * (a_top @ a_top) + hidden.sum() + 2.0 * (x @ x) * (delta_1 @ delta_1)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _ntk_chunk(width: int, depth: int, keys: jax.Array, x: jax.Array) -> jax.Array:
    return jax.vmap(lambda key: relu_ntk(key, width, depth, x))(keys)


def ntk_samples(width: int, depth: int, x: np.ndarray, count: int, key: jax.Array
                ) -> np.ndarray:
    """Theta(x, x) of ``count`` ReLU networks (``relu_ntk``) drawn from ``split(key,
    count)`` (float64).

    Networks run in chunks of a fixed size (``CHUNK`` or fewer, drawing at most
    ``MEMORY_BYTES`` of normals), the last padded with repeated keys whose results are
    dropped: one compilation per width and depth, whatever ``count``.

    Raises:
      ValueError: width, depth or count not a positive integer.
    """
    for name, value in (("width", width), ("depth", depth), ("count", count)):
        _positive(name, value)
    chunk = int(max(1, min(CHUNK, MEMORY_BYTES // (16 * max(depth - 1, 1) * width))))
    with jax.enable_x64(True):
        keys = jax.random.split(key, count)
        padded = jnp.concatenate([keys, keys[np.arange((-count) % chunk) % count]])
        xs = jnp.asarray(x, jnp.float64)
        parts = [np.asarray(_ntk_chunk(width, depth, padded[i:i + chunk], xs))
                 for i in range(0, padded.shape[0], chunk)]
    return np.concatenate(parts)[:count]


def ratio_moment(theta: np.ndarray) -> tuple[float, float]:
    """R = mean(Theta^2) / mean(Theta)^2 and its delta-method standard error.

    >>> r, se = ratio_moment(np.array([1.0, 3.0]))
    >>> r
    1.25
    """
    t = np.asarray(theta, dtype=np.float64)
    m1, m2 = t.mean(), (t**2).mean()
    grad = np.array([-2 * m2 / m1**3, 1 / m1**2])
    cov = np.cov(np.stack([t, t**2]), ddof=1) / t.size
    return float(m2 / m1**2), float(np.sqrt(grad @ cov @ grad))


@dataclasses.dataclass(frozen=True)
class DepthWidth:
    """R(beta) for ReLU networks, the exponential and the first-order forms.

    Attributes:
      protocol: what was measured.
      ratio, ratio_se: (D,) R and its standard error at ``protocol.betas``.
      slope, slope_se: c of the first-order line 1 + c beta, fitted (weighted least squares
        through R(0) = 1) to the points with beta <= ``small_beta``.
      small_beta: the largest beta in that fit.
      rate, rate_se: kappa of log R = a + kappa beta fitted to every point (Hanin & Nica:
        ``HANIN_NICA_RATE``).
      intercept: a.
      theory_depths, theory: the first-order prediction 1 + Var_1(d) / (n Theta_inf(d)^2)
        of the recursions (``first_order_ratio``) at depths covering the protocol's, or
        () where the registry has no ReLU ``ntk_variance``.
    """

    protocol: DepthWidthProtocol
    ratio: tuple[float, ...]
    ratio_se: tuple[float, ...]
    slope: float | None
    slope_se: float | None
    small_beta: float
    rate: float | None
    rate_se: float | None
    intercept: float | None
    theory_depths: tuple[int, ...] = ()
    theory: tuple[float, ...] = ()

    @property
    def betas(self) -> tuple[float, ...]:
        return self.protocol.betas

    @property
    def theory_betas(self) -> tuple[float, ...]:
        return tuple(d / self.protocol.width for d in self.theory_depths)

    def reference(self) -> tuple[float, ...]:
        """The first-order value at every measured depth: the recursions' where there are
        some, else the fitted line 1 + c beta."""
        if self.theory:
            table = dict(zip(self.theory_depths, self.theory, strict=True))
            return tuple(table[d] for d in self.protocol.depths)
        return tuple(float(v) for v in self.first_order(np.asarray(self.betas)))

    def first_order(self, beta: np.ndarray) -> np.ndarray:
        """1 + c beta."""
        return 1.0 + (self.slope or 0.0) * np.asarray(beta, dtype=np.float64)

    @property
    def failure_beta(self) -> float | None:
        """The smallest beta whose R is more than 3 standard errors off the first-order
        value (``reference``; None if none is)."""
        return next((b for b, r, s, f in zip(self.betas, self.ratio, self.ratio_se,
                                             self.reference(), strict=True)
                     if abs(r - f) > 3 * s), None)

    def summary(self) -> str:
        p = self.protocol
        first = ("not fitted" if self.slope is None else
                 f"1 + c beta with c = {self.slope:.3g} ± {self.slope_se:.2g} (fitted to "
                 f"beta <= {self.small_beta:g})")
        rate = ("not fitted" if self.rate is None else
                f"{self.rate:.3g} ± {self.rate_se:.2g} (Hanin-Nica: {HANIN_NICA_RATE:g})")
        fail = self.failure_beta
        which = ("the recursions' first order 1 + Var_1/(n Theta_inf^2)" if self.theory
                 else "the fitted line")
        where = (f"{which} is within 3 SE of every point" if fail is None else
                 f"{which} is first more than 3 SE off at beta = {fail:.3g}")
        slope = ("" if not self.theory else
                 f" (its slope (R - 1) / beta at d = {self.theory_depths[-1]}: "
                 f"{(self.theory[-1] - 1) / self.theory_betas[-1]:.3g})")
        return (f"ReLU, n = {p.width}, d = {p.depths[0]}..{p.depths[-1]}, {p.inits} networks "
                f"per depth: fitted first-order line {first}; {where}{slope}; fitted "
                f"exponential rate {rate}")


def depth_to_width(protocol: DepthWidthProtocol, small_beta: float = 0.1,
                   progress: bool = False) -> DepthWidth:
    """Measure R at every depth of ``protocol`` (each depth cached) and fit the first-order
    line on beta <= ``small_beta`` and the exponential rate on every point."""
    p = protocol
    x = default_inputs(1, p.input_dim, p.input_seed)[0]
    ratios, errors = [], []
    for depth in config.tqdm(p.depths, desc=f"ReLU NTK, n={p.width}", disable=not progress,
                             leave=False):
        def compute(depth: int = depth) -> dict[str, np.ndarray]:
            key = jax.random.fold_in(jax.random.key(p.seed), depth)
            return {"theta": ntk_samples(p.width, depth, x, p.inits, key)}

        entry = cache.cached("theory-relu-ntk", {
            "width": p.width, "depth": depth, "inits": p.inits, "seed": p.seed, "x": x,
            "activation": "relu", "weight_std": 2.0**0.5, "sampler": "relu_ntk, O(d n)"},
            compute)
        r, se = ratio_moment(entry["theta"])
        ratios.append(r)
        errors.append(se)
    beta, r, s = (np.asarray(v, dtype=np.float64) for v in (p.betas, ratios, errors))
    small = beta <= small_beta
    slope = slope_se = rate = rate_se = intercept = None
    if small.any():
        c, cov = _weighted_line(beta[small], r[small] - 1.0, s[small], through_origin=True)
        slope, slope_se = float(c[0]), float(np.sqrt(cov[0, 0]))
    if beta.size >= 2:
        c, cov = _weighted_line(beta, np.log(r), s / r, through_origin=False)
        intercept, rate, rate_se = float(c[0]), float(c[1]), float(np.sqrt(cov[1, 1]))
    grid = tuple(sorted({*p.depths, *(int(round(d)) for d in np.geomspace(
        1, p.depths[-1], 30))}))
    theory = first_order_ratio(p.width, grid, p.input_dim, p.input_seed)
    return DepthWidth(p, tuple(ratios), tuple(errors), slope, slope_se, small_beta, rate,
                      rate_se, intercept, grid if theory else (), theory)


def first_order_ratio(width: int, depths: Sequence[int], input_dim: int = 4,
                      input_seed: int = INPUT_SEED) -> tuple[float, ...]:
    """1 + Var_1(d) / (n Theta_inf(d)^2) at each depth: E[Theta^2] / E[Theta]^2 to first
    order in 1/n, from the registry's ``ntk_variance`` (Var Theta = Var_1 / n) and
    ``ntk_mean`` of a ReLU network (s_w = sqrt 2, no biases) at x_1 = x_2; () where the
    registry lacks them or they do not cover ReLU."""
    entries = registry()
    if "ntk_variance" not in entries or "ntk_mean" not in entries:
        return ()
    x = default_inputs(1, input_dim, input_seed)
    out = []
    for depth in depths:
        net = Network(input_dim=input_dim, depth=depth, activation="relu", weight_std=2**0.5)
        try:
            var, mean = (entries[name][0](net, x) for name in ("ntk_variance", "ntk_mean"))
        except ValueError:
            return ()
        out.append(1.0 + float(var.coefficient_1_over_n)
                   / (width * float(mean.infinite_width) ** 2))
    return tuple(out)


def predictions_markdown(depth: int, activations: Sequence[str], bias: bool = False
                         ) -> str:
    """E_inf and c_1 of every registry statistic for each activation at ``depth``, at the
    default inputs, as a Markdown table (activations the recursions do not cover say so)."""
    lines = ["| statistic | correlator | " + " | ".join(activations) + " |",
             "|---|---|" + "---|" * len(activations)]
    for name, (_, correlator) in registry().items():
        cells = []
        for activation in activations:
            try:
                pred = prediction(CoefficientProtocol(name, activation, depth, bias))
            except ValueError:
                cells.append("not covered")
                continue
            e, c = float(pred.infinite_width), float(pred.coefficient_1_over_n)
            cells.append(f"{e:.4g} {c:+.4g}/n")
        lines.append(f"| {name} | `{correlator}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def coverage_markdown() -> str:
    """Which rows of Tables 1 and 3 (``correlators.notation.NAMED``) a registry statistic
    predicts, by correlator."""
    by_correlator = {parse(c).text: name for name, (_, c) in registry().items()}
    lines = ["| row | correlator | statistic |", "|---|---|---|"]
    for row, spec in NAMED.items():
        if row.startswith(("table1", "table3")):
            name = by_correlator.get(parse(spec).text)
            lines.append(f"| {row} | `{spec}` | {f'`{name}`' if name else 'not covered'} |")
    return "\n".join(lines)


def comparisons_markdown(comparisons: Sequence[Comparison]) -> str:
    """Predicted against measured c_1, one row per comparison, with z, SE / |c_1| and the
    networks per width a 10% standard error would need (SE falls as 1 / sqrt(networks))."""
    lines = ["| statistic | activation | depth | inputs | E_inf | predicted c_1 | Monte Carlo "
             "c_1 ± SE | z | SE / abs(c_1) | c_2 | chi2/dof | networks for SE < 10% |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        p, f = c.protocol, c.fit
        needed = "—" if not c.predicted else f"{p.inits * (c.relative_se / 0.1) ** 2:.2g}"
        lines.append(
            f"| {p.statistic} | {p.activation} | {p.depth} | "
            f"{'x_i = x_1' if p.coincide else 'distinct'} | {c.infinite_width:.6g} | "
            f"{c.predicted:+.5g} | {f.c1:+.5g} ± {f.c1_se:.2g} | {c.z:+.1f} | "
            f"{c.relative_se:.2f} | {f.c2:+.3g} | {f.chi2:.1f}/{f.dof} | {needed} |")
    return "\n".join(lines)


def not_covered_lines(gaps: Sequence[tuple[str, str, str]]) -> list[str]:
    """A Markdown line per (statistic, activation, reason) the recursions do not cover (no
    Monte Carlo is run for it); none when every case is covered."""
    return [f"Not covered (no comparison): `{s}` for {a}: {reason}" for s, a, reason in gaps]


def _comparison_json(c: Comparison) -> dict[str, object]:
    return {**dataclasses.asdict(c), "z": c.z}


def comparison_from_json(data: dict) -> Comparison:
    """The ``Comparison`` stored in a report's data (``report``)."""
    fields = {f.name: data[f.name] for f in dataclasses.fields(Comparison)}
    protocol = dict(fields["protocol"])
    protocol["widths"] = tuple(protocol["widths"])
    return Comparison(**{**fields, "protocol": CoefficientProtocol(**protocol),
                         "fit": CoefficientFit(**fields["fit"]),
                         **{k: tuple(fields[k]) for k in ("values", "stderr", "counts")}})


def report(profile: str | None = None, activations: Sequence[str] = ("tanh", "gelu"),
           depths: Sequence[int] = (1, 2, 3, 4)) -> Report:
    """The ``theory`` target: every registry statistic for ``activations`` at ``depths``
    (the profile's widths and networks; a case the recursions do not cover, e.g. ReLU's
    dNTK, is listed with its reason instead), the null test (linear kernel, on and off the
    diagonal) and the ReLU depth-to-width ratio. ``Report.data``: ``comparisons`` and
    ``null`` (read back with ``comparison_from_json``), ``not_covered``, ``depth_to_width``."""
    base = CoefficientProtocol.for_profile(profile)
    protocols = [dataclasses.replace(base, statistic=s, activation=a, depth=d)
                 for s in registry() for a in activations for d in depths]
    gaps = {p: coverage_gap(p) for p in protocols}
    comparisons = [coefficient_comparison(p, progress=True) for p in protocols if not gaps[p]]
    not_covered = list(dict.fromkeys((p.statistic, p.activation, gap)
                                     for p, gap in gaps.items() if gap))
    null = [coefficient_comparison(dataclasses.replace(
        base, statistic="kernel", activation="linear", depth=d, coincide=coincide))
        for coincide in (False, True) for d in depths]
    ratio = depth_to_width(DepthWidthProtocol.for_profile(profile), progress=True)
    markdown = "\n\n".join([
        f"1/n coefficients: widths {list(base.widths)}, {base.inits} networks per width.",
        comparisons_markdown(comparisons), *not_covered_lines(not_covered),
        "Null test (the prediction is exactly 0):",
        comparisons_markdown(null), null_markdown(null_scan(depths)), ratio.summary()])
    return Report("theory", {"coefficients": dataclasses.asdict(base),
                             "depth_to_width": dataclasses.asdict(ratio.protocol),
                             "activations": list(activations), "depths": list(depths)},
                  (), {"comparisons": [_comparison_json(c) for c in comparisons],
                       "not_covered": [dict(zip(("statistic", "activation", "reason"), g,
                                                strict=True)) for g in not_covered],
                       "null": [_comparison_json(c) for c in null],
                       "depth_to_width": dataclasses.asdict(ratio)}, markdown)
