"""Width-exponent fits: C(n) ~ A n^s from Monte Carlo samples, with confidence intervals.

The slope of log|C| against log n is a weighted least-squares fit (weights from the
standard errors, sigma_log = stderr / |C|). A width whose |C| < 2 standard errors is
*unresolved*: excluded from the fit and reported; fewer than ``MIN_WIDTHS`` resolved widths
give no slope. The slope's confidence interval comes from one of ``METHODS``, each valid
at the sample sizes where it is used:

- ``BOOTSTRAP`` (``MIN_BOOTSTRAP`` or more initializations at every width): a percentile
  bootstrap over initializations, resampled independently at every width. Its accuracy
  rests on the samples standing for their distribution, which few samples do not: with 8
  initializations a percentile interval of a mean is about 20% too narrow (the bootstrap
  variance carries a factor (k - 1)/k and normal instead of Student quantiles).
- ``STUDENT`` (fewer initializations, at least ``MIN_STUDENT`` for a mean): the same
  weighted fit on the per-width values, with the slope's standard error from the
  per-width ones (sigma_s^2 = sum_i c_i^2 sigma_i^2, s = sum_i c_i log|C_i|) and a Student
  t quantile whose degrees of freedom are the Welch-Satterthwaite combination of the
  widths' k_i - 1. At one width this is the t-interval of a normal mean, exact for normal
  samples; across widths it is the standard approximation for a linear combination of
  independent estimated variances.
- ``BLOCKS`` (heavy-tailed statistics, e.g. the variance of a product of four or more
  tensors, whose standard error rests on sixteenth moments of f): the
  initializations of every width are cut into ``BLOCK_COUNT`` consecutive blocks; the
  slope is refitted with each block left out (same weights), and the delete-a-block
  jackknife variance (B - 1)/B sum_b (s_(b) - mean)^2 enters a t quantile on B - 1
  degrees of freedom. Under heavy tails the plug-in spread is itself a noisy estimate:
  as a variance it is worth about 2 N / (kurtosis - 1) degrees of freedom (the kurtosis
  of the averaged quantity), not N - 1, and the bootstrap's normal-like quantile ignores
  that; the jackknife's spread is worth B - 1 and its t quantile (2.26 instead of 1.96)
  pays for it. It is no cure for skew: a sample that misses the rare large values has a
  low estimate and small spreads together, so log C_hat is biased low with misses on one
  side. The slope only feels the *difference* of that bias between the widths of the
  window, which is small where the tails change little across it (the tables' widths,
  2^7 and up) and large where they change fast (n = 32..256 at depth 3, where at n = 32
  the median of Var[f1 f2 f3 f4]_hat is 0.80 of the exact value and its standard error is
  worth 6 degrees of freedom). Coverage of the exact local slope on linear networks
  (``benchmarks/results/coverage.md``; 4000 initializations for a variance, 1000 for the
  mean; binomial SE 0.013-0.022):

  =========================  ==============  ===========  ==========
  statistic                  widths          ``BLOCKS``   bootstrap
  =========================  ==============  ===========  ==========
  variance of f1 f2          32..256         0.957        0.937
  variance of f1 f2 f3 f4    32..256         0.880        0.823
  variance of f1 f2 f3 f4    128..1024       0.970        0.950
  mean of f1 f2 f3 f4        32..256         0.940        0.923
  mean of f1 f2 f3 f4        128..1024       0.960        0.940
  =========================  ==============  ===========  ==========

  The tables use ``BLOCKS`` for variances of four or more tensors and keep ``BOOTSTRAP``
  for means (whose standard error rests on eighth moments): at the tables' widths it
  covers 0.94 ± 0.024.

Coverage of the true exponent on synthetic power laws (same file, 300 repetitions, binomial
SE 0.013-0.017): ``STUDENT`` 0.94 from 8 to 29 normal samples per width for a mean, but
0.90 at 30 for a variance (its standard error rests on fourth moments; at 8 it was 0.80,
hence ``MIN_BOOTSTRAP`` for any variance; at 4 samples 0.89 for a mean, hence
``MIN_STUDENT``); ``BOOTSTRAP`` 0.91-0.95 from 30 to 100; for the mean of g^4 (g normal)
at 1000 samples ``BLOCKS`` 0.94 and ``BOOTSTRAP`` 0.94 on the same data.

>>> rng = np.random.default_rng(0)
>>> widths = (64, 128, 256, 512)
>>> fit = fit_exponent(widths, [1 / n + rng.normal(0, 0.02 / n, 500) for n in widths])
>>> round(fit.slope, 2), fit.unresolved, fit.method == BOOTSTRAP
(-1.0, (), True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from jax.typing import ArrayLike
from scipy import optimize, stats

STATISTICS: tuple[str, ...] = ("mean", "variance")
#: How a slope's confidence interval is computed (``Fit.method``; see the module docstring).
BOOTSTRAP = "bootstrap over initializations"
STUDENT = "t-interval from per-width standard errors"
BLOCKS = "jackknife over blocks of initializations"
#: ``fit_exponent``'s choices: ``"auto"`` is ``BOOTSTRAP`` with ``MIN_BOOTSTRAP`` or more
#: initializations at every resolved width, else ``STUDENT``.
METHODS: dict[str, str] = {"auto": "", "bootstrap": BOOTSTRAP, "student": STUDENT,
                           "blocks": BLOCKS}
#: The fewest initializations per width for a bootstrap interval, and for any interval of
#: a variance (its standard error rests on fourth moments).
MIN_BOOTSTRAP = 30
#: The fewest initializations per width for a ``STUDENT`` interval of a mean.
MIN_STUDENT = 8
#: The fewest resolved widths for a slope.
MIN_WIDTHS = 3
#: Blocks of initializations per width for ``BLOCKS``.
BLOCK_COUNT = 10


class NotFittable(ValueError):
    """Too few resolved widths for a slope."""


def moment(samples: ArrayLike, statistic: str = "mean") -> tuple[float, float]:
    """The mean (or variance) of ``samples`` and its standard error.

    The variance's standard error is that of the mean of (x - mean)^2.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; choose one of "
                         f"{', '.join(STATISTICS)}.")
    if x.size < 2:
        raise ValueError(f"need at least 2 samples for a standard error, got {x.size}.")
    if statistic == "mean":
        return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))
    squares = (x - x.mean()) ** 2
    return float(x.var(ddof=1)), float(squares.std(ddof=1) / np.sqrt(x.size))


def _statistic_rows(x: np.ndarray, statistic: str) -> np.ndarray:
    """The statistic along the last axis (for bootstrap resamples and blocks)."""
    return x.mean(axis=-1) if statistic == "mean" else x.var(axis=-1, ddof=1)


def _log_weights(values: np.ndarray, stderr: np.ndarray) -> np.ndarray:
    """1 / sigma_log^2, sigma_log = stderr / |C| (the delta method for log|C|)."""
    sigma = np.asarray(stderr, dtype=np.float64) / np.abs(values)
    return 1.0 / np.maximum(sigma, 1e-12) ** 2


def slope_coefficients(widths: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """c with s = sum_i c_i log|C_i|: the weighted least-squares slope as a linear map."""
    log_n = np.log(np.asarray(widths, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    centred = log_n - np.sum(w * log_n) / np.sum(w)
    return w * centred / np.sum(w * centred**2)


def weighted_slope(widths: ArrayLike, values: ArrayLike, stderr: ArrayLike
                   ) -> tuple[float, float]:
    """Weighted least squares of log|C| on log n; returns (slope, intercept)."""
    log_n = np.log(np.asarray(widths, dtype=np.float64))
    values = np.abs(np.asarray(values, dtype=np.float64))
    weights = _log_weights(values, stderr)
    slope, intercept = np.polyfit(log_n, np.log(values), 1, w=np.sqrt(weights))
    return float(slope), float(intercept)


def student_interval(widths: ArrayLike, values: ArrayLike, stderr: ArrayLike,
                     dof: ArrayLike, confidence: float = 0.95) -> tuple[float, float]:
    """The ``STUDENT`` interval of the weighted slope: s +- t_nu sigma_s with
    sigma_s^2 = sum_i c_i^2 sigma_i^2 and the Welch-Satterthwaite
    nu = sigma_s^4 / sum_i (c_i^2 sigma_i^2)^2 / nu_i (``dof``: nu_i per width)."""
    values = np.abs(np.asarray(values, dtype=np.float64))
    weights = _log_weights(values, stderr)
    c = slope_coefficients(widths, weights)
    terms = c**2 / weights
    nu = np.sum(terms) ** 2 / np.sum(terms**2 / np.asarray(dof, dtype=np.float64))
    half = stats.t.ppf(0.5 + confidence / 2, nu) * np.sqrt(np.sum(terms))
    slope = float(np.sum(c * np.log(values)))
    return slope - half, slope + half


def block_values(samples: ArrayLike, statistic: str, blocks: int = BLOCK_COUNT
                 ) -> np.ndarray:
    """The statistic of each of ``blocks`` consecutive, equal blocks of ``samples`` (a
    remainder of fewer than ``blocks`` samples is left out)."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    size = x.size // blocks
    if size < 2:
        raise ValueError(f"{x.size} samples make no {blocks} blocks of 2 or more.")
    return _statistic_rows(x[:blocks * size].reshape(blocks, size), statistic)


@dataclasses.dataclass(frozen=True)
class Fit:
    """A fitted width exponent.

    Attributes:
      slope: s in |C| ~ A n^s.
      intercept: log A.
      slope_ci: the slope's confidence interval.
      confidence: its level.
      widths: every width measured.
      values: C (mean or variance) at every width.
      stderr: its standard error.
      unresolved: widths with |C| < 2 stderr, excluded from the fit.
      method: how the interval was computed (``BOOTSTRAP``, ``STUDENT`` or ``BLOCKS``).
    """

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    confidence: float
    widths: tuple[int, ...]
    values: tuple[float, ...]
    stderr: tuple[float, ...]
    unresolved: tuple[int, ...]
    method: str = BOOTSTRAP


def resolved(value: float, stderr: float) -> bool:
    """True when |value| >= 2 standard errors."""
    return bool(abs(value) >= 2 * stderr and value != 0)


def _bootstrap_interval(n: np.ndarray, arrays: Sequence[np.ndarray], values: np.ndarray,
                        errors: np.ndarray, statistic: str, confidence: float,
                        resamples: int, seed: int) -> tuple[float, float]:
    """Percentile interval of the weighted slope over resampled initializations."""
    rng = np.random.default_rng(seed)
    boot = np.stack([_statistic_rows(x[rng.integers(0, x.size, (resamples, x.size))],
                                     statistic) for x in arrays], axis=1)
    boot = np.maximum(np.abs(boot), np.finfo(np.float64).tiny)
    slopes = np.log(boot) @ slope_coefficients(n, _log_weights(values, errors))
    tail = 50 * (1 - confidence)
    low, high = np.percentile(slopes, [tail, 100 - tail])
    return float(low), float(high)


def _blocks_interval(n: np.ndarray, arrays: Sequence[np.ndarray], values: np.ndarray,
                     errors: np.ndarray, statistic: str, confidence: float
                     ) -> tuple[float, float]:
    """Delete-a-block jackknife of the weighted slope, with a t quantile on
    ``BLOCK_COUNT - 1`` degrees of freedom."""
    c = slope_coefficients(n, _log_weights(values, errors))
    size = min(x.size for x in arrays) // BLOCK_COUNT
    left_out = []
    for b in range(BLOCK_COUNT):
        kept = [np.delete(x[:BLOCK_COUNT * size], np.s_[b * size:(b + 1) * size])
                for x in arrays]
        left_out.append(np.log(np.abs([_statistic_rows(x, statistic) for x in kept])) @ c)
    left_out = np.asarray(left_out)
    sigma = np.sqrt((BLOCK_COUNT - 1) * np.mean((left_out - left_out.mean()) ** 2))
    half = stats.t.ppf(0.5 + confidence / 2, BLOCK_COUNT - 1) * sigma
    slope = float(np.log(np.abs(values)) @ c)
    return slope - half, slope + half


def fit_exponent(widths: Sequence[int], samples: Sequence[ArrayLike], statistic: str = "mean",
                 confidence: float = 0.95, resamples: int = 1000, seed: int = 0,
                 method: str = "auto") -> Fit:
    """Fit |C(n)| ~ A n^s from per-width samples (mean or variance of the integrand), with
    the confidence interval of ``method`` (one of ``METHODS``).

    Raises:
      NotFittable: fewer than ``MIN_WIDTHS`` widths are resolved (|C| >= 2 stderr), or
        fewer initializations per width than the interval is valid for (``MIN_BOOTSTRAP``
        for a bootstrap or any variance, ``MIN_STUDENT`` for a t-interval of a mean,
        ``2 * BLOCK_COUNT`` for the blocks).
    """
    if len(widths) != len(samples):
        raise ValueError(f"{len(widths)} widths but {len(samples)} sample sets.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    stats = [moment(x, statistic) for x in arrays]
    keep = [i for i, (v, e) in enumerate(stats) if resolved(v, e)]
    unresolved = tuple(int(widths[i]) for i in range(len(widths)) if i not in keep)
    if len(keep) < MIN_WIDTHS:
        raise NotFittable(
            f"only {len(keep)} of {len(widths)} widths resolved (|C| >= 2 standard errors), "
            f"a slope needs {MIN_WIDTHS}; use more initializations, other inputs or more "
            "widths.")
    n = np.array([widths[i] for i in keep], dtype=np.float64)
    values = np.array([stats[i][0] for i in keep])
    errors = np.array([stats[i][1] for i in keep])
    kept = [arrays[i] for i in keep]
    counts = np.array([x.size for x in kept])
    slope, intercept = weighted_slope(n, values, errors)
    chosen = METHODS[method] or (BOOTSTRAP if counts.min() >= MIN_BOOTSTRAP else STUDENT)
    fewest = {BOOTSTRAP: MIN_BOOTSTRAP, STUDENT: MIN_STUDENT, BLOCKS: 2 * BLOCK_COUNT}[chosen]
    if statistic == "variance":
        fewest = max(fewest, MIN_BOOTSTRAP)
    if counts.min() < fewest:
        raise NotFittable(f"a {statistic} fitted with a {chosen} interval needs {fewest} "
                          f"initializations per width, got {int(counts.min())}.")
    if chosen == BOOTSTRAP:
        ci = _bootstrap_interval(n, kept, values, errors, statistic, confidence, resamples,
                                 seed)
    elif chosen == STUDENT:
        ci = student_interval(n, values, errors, counts - 1, confidence)
    else:
        ci = _blocks_interval(n, kept, values, errors, statistic, confidence)
    return Fit(slope, intercept, (float(ci[0]), float(ci[1])), confidence,
               tuple(int(w) for w in widths), tuple(v for v, _ in stats),
               tuple(e for _, e in stats), unresolved, chosen)


@dataclasses.dataclass(frozen=True)
class CorrectedFit:
    """C(n) = A n^s (1 + c/n): the exponent with the leading finite-width correction.

    Attributes:
      slope: s.
      slope_ci: its confidence interval (normal, from the fit's covariance).
      correction: c, the width at which the correction equals the leading term.
      chi2: the weighted residual sum of squares, with ``dof`` degrees of freedom.
      dof: resolved widths minus 3.
    """

    slope: float
    slope_ci: tuple[float, float]
    correction: float
    chi2: float
    dof: int


def fit_with_correction(widths: Sequence[int], values: ArrayLike, stderr: ArrayLike,
                        confidence: float = 0.95) -> CorrectedFit:
    """Weighted least squares of |C| = A n^s (1 + c/n) on the resolved widths.

    Conjecture 1 is a statement about n -> infinity; when the first correction is large
    (c comparable to the smallest widths) a straight log-log fit is bent towards it.

    Raises:
      NotFittable: fewer than four resolved widths (three parameters and a residual).
    """
    n = np.asarray(widths, dtype=np.float64)
    values = np.abs(np.asarray(values, dtype=np.float64))
    stderr = np.asarray(stderr, dtype=np.float64)
    keep = np.array([resolved(v, e) for v, e in zip(values, stderr, strict=True)], dtype=bool)
    if keep.sum() < 4:
        raise NotFittable(f"only {int(keep.sum())} resolved widths; a fit with a 1/n "
                          "correction needs at least 4.")
    n, values, stderr = n[keep], values[keep], stderr[keep]
    slope0, intercept0 = weighted_slope(n, values, stderr)

    def model(x: np.ndarray, log_a: float, s: float, c: float) -> np.ndarray:
        return np.exp(log_a) * x**s * (1 + c / x)

    try:
        params, cov = optimize.curve_fit(model, n, values, p0=(intercept0, slope0, 0.0),
                                         sigma=stderr, absolute_sigma=True, maxfev=20_000)
    except RuntimeError as err:  # no convergence
        raise NotFittable(f"the fit with a 1/n correction did not converge ({err}).") from None
    if not np.all(np.isfinite(params)) or not np.isfinite(cov[1, 1]):
        raise NotFittable("the widths do not determine both the exponent and the 1/n "
                          "correction (singular fit); add widths or initializations.")
    chi2 = float(np.sum(((values - model(n, *params)) / stderr) ** 2))
    half = stats.norm.ppf(0.5 + confidence / 2) * float(np.sqrt(cov[1, 1]))
    return CorrectedFit(float(params[1]), (float(params[1] - half), float(params[1] + half)),
                        float(params[2]), chi2, int(n.size - 3))
