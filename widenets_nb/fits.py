"""Width-exponent fits: C(n) ~ A n^s from Monte Carlo samples, with confidence intervals.

The slope of log|C| against log n is a weighted least-squares fit (weights from the
standard errors, sigma_log = stderr / |C|); its confidence interval comes from a
bootstrap over initializations (resampled independently at every width). A width whose
|C| < 2 standard errors is *unresolved*: excluded from the fit and reported.

>>> rng = np.random.default_rng(0)
>>> widths = (64, 128, 256, 512)
>>> fit = fit_exponent(widths, [1 / n + rng.normal(0, 0.02 / n, 500) for n in widths])
>>> round(fit.slope, 2), fit.unresolved
(-1.0, ())
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from jax.typing import ArrayLike

STATISTICS: tuple[str, ...] = ("mean", "variance")


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
    """The statistic along the last axis (for bootstrap resamples)."""
    return x.mean(axis=-1) if statistic == "mean" else x.var(axis=-1, ddof=1)


def weighted_slope(widths: ArrayLike, values: ArrayLike, stderr: ArrayLike
                   ) -> tuple[float, float]:
    """Weighted least squares of log|C| on log n; returns (slope, intercept)."""
    log_n = np.log(np.asarray(widths, dtype=np.float64))
    values = np.abs(np.asarray(values, dtype=np.float64))
    sigma = np.asarray(stderr, dtype=np.float64) / values
    weights = 1.0 / np.maximum(sigma, 1e-12) ** 2
    slope, intercept = np.polyfit(log_n, np.log(values), 1, w=np.sqrt(weights))
    return float(slope), float(intercept)


@dataclasses.dataclass(frozen=True)
class Fit:
    """A fitted width exponent.

    Attributes:
      slope: s in |C| ~ A n^s.
      intercept: log A.
      slope_ci: the bootstrap confidence interval of the slope.
      confidence: its level.
      widths: every width measured.
      values: C (mean or variance) at every width.
      stderr: its standard error.
      unresolved: widths with |C| < 2 stderr, excluded from the fit.
    """

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    confidence: float
    widths: tuple[int, ...]
    values: tuple[float, ...]
    stderr: tuple[float, ...]
    unresolved: tuple[int, ...]


def resolved(value: float, stderr: float) -> bool:
    """True when |value| >= 2 standard errors."""
    return bool(abs(value) >= 2 * stderr and value != 0)


def fit_exponent(widths: Sequence[int], samples: Sequence[ArrayLike], statistic: str = "mean",
                 confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> Fit:
    """Fit |C(n)| ~ A n^s from per-width samples (mean or variance of the integrand).

    Raises:
      NotFittable: fewer than two widths are resolved (|C| >= 2 stderr).
    """
    if len(widths) != len(samples):
        raise ValueError(f"{len(widths)} widths but {len(samples)} sample sets.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    stats = [moment(x, statistic) for x in arrays]
    keep = [i for i, (v, e) in enumerate(stats) if resolved(v, e)]
    unresolved = tuple(int(widths[i]) for i in range(len(widths)) if i not in keep)
    if len(keep) < 2:
        raise NotFittable(
            f"only {len(keep)} of {len(widths)} widths resolved (|C| >= 2 standard errors); "
            "use more initializations, other inputs or more widths."
        )
    n = np.array([widths[i] for i in keep], dtype=np.float64)
    values = np.array([stats[i][0] for i in keep])
    errors = np.array([stats[i][1] for i in keep])
    slope, intercept = weighted_slope(n, values, errors)
    rng = np.random.default_rng(seed)
    boot = np.stack([
        _statistic_rows(arrays[i][rng.integers(0, arrays[i].size, (resamples, arrays[i].size))],
                        statistic)
        for i in keep
    ], axis=1)
    boot = np.maximum(np.abs(boot), np.finfo(np.float64).tiny)
    sigma = errors / np.abs(values)
    design = np.stack([np.log(n), np.ones_like(n)], axis=1) / sigma[:, None]
    coefficients = np.linalg.lstsq(design, (np.log(boot) / sigma).T, rcond=None)[0]
    tail = 50 * (1 - confidence)
    low, high = np.percentile(coefficients[0], [tail, 100 - tail])
    return Fit(slope, intercept, (float(low), float(high)), confidence,
               tuple(int(w) for w in widths), tuple(v for v, _ in stats),
               tuple(e for _, e in stats), unresolved)


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
    from scipy import optimize, stats

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
