"""Width-exponent fits on synthetic data with a known slope."""

import numpy as np
import pytest

from widenets_nb import fits
from widenets_nb.fits import NotFittable, fit_exponent, moment, weighted_slope

WIDTHS = (32, 64, 128, 256, 512)


def test_weighted_slope_exact_power_law():
    n = np.array(WIDTHS, dtype=float)
    slope, intercept = weighted_slope(n, 3.0 * n**-1.5, 0.01 * n**-1.5)
    assert slope == pytest.approx(-1.5, abs=1e-12)
    assert intercept == pytest.approx(np.log(3.0), abs=1e-12)


def test_moment_standard_errors():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    mean, se = moment(x)
    assert mean == 3.0
    assert se == pytest.approx(np.std(x, ddof=1) / 2)
    var, var_se = moment(x, "variance")
    assert var == pytest.approx(np.var(x, ddof=1))
    assert var_se == pytest.approx(np.std((x - 3.0) ** 2, ddof=1) / 2)
    with pytest.raises(ValueError, match="statistic"):
        moment(x, "median")


@pytest.mark.parametrize("true_slope", [0.0, -1.0, -2.0])
def test_mean_fit_recovers_slope_inside_ci(true_slope):
    # Each width: samples with mean 2 n^s and relative noise 20% per sample.
    rng = np.random.default_rng(1)
    samples = [2 * n**true_slope * (1 + 0.2 * rng.standard_normal(2000)) for n in WIDTHS]
    fit = fit_exponent(WIDTHS, samples, resamples=500, seed=0)
    low, high = fit.slope_ci
    assert low < true_slope < high
    assert high - low < 0.05  # 20%/sqrt(2000) per width over a 16x width range
    assert fit.unresolved == ()


def test_variance_fit_recovers_slope():
    rng = np.random.default_rng(2)
    samples = [n**-1.0 * rng.standard_normal(4000) for n in WIDTHS]  # variance n^-2
    fit = fit_exponent(WIDTHS, samples, statistic="variance", resamples=500)
    assert fit.slope_ci[0] < -2.0 < fit.slope_ci[1]
    assert fit.values[0] == pytest.approx(32.0**-2, rel=0.1)


def test_unresolved_widths_are_excluded_and_reported():
    rng = np.random.default_rng(3)
    samples = [n**-1.0 + rng.standard_normal(1000) * (0.01 if n < 256 else 10.0)
               for n in WIDTHS]
    fit = fit_exponent(WIDTHS, samples, resamples=200)
    assert fit.unresolved == (256, 512)
    assert fit.slope_ci[0] < -1.0 < fit.slope_ci[1]
    assert len(fit.values) == len(WIDTHS)


def test_not_fittable():
    rng = np.random.default_rng(4)
    half = rng.standard_normal(50)
    samples = [np.concatenate([half, -half]) + (n == 32) for n in WIDTHS]  # one resolved
    with pytest.raises(NotFittable, match="resolved"):
        fit_exponent(WIDTHS, samples)
    with pytest.raises(ValueError, match="widths"):
        fit_exponent(WIDTHS[:2], samples)


def test_fit_with_correction_recovers_exponent_and_correction():
    rng = np.random.default_rng(3)
    widths = 2 ** np.arange(7, 15)
    truth = 3.0 * widths**-1.0 * (1 + 150 / widths)
    stderr = 0.02 * truth
    values = truth + rng.normal(0, stderr)
    fit = fits.fit_with_correction(widths, values, stderr)
    assert fit.slope_ci[0] < -1.0 < fit.slope_ci[1] and fit.slope_ci[1] - fit.slope_ci[0] < 0.2
    assert fit.correction == pytest.approx(150, rel=0.3) and fit.dof == 5
    assert fit.chi2 < 20  # chi2 with 5 dof
    # the straight log-log fit is bent by the correction: about -1.2 here
    assert fits.weighted_slope(widths, values, stderr)[0] < -1.1


def test_fit_with_correction_needs_four_resolved_widths():
    with pytest.raises(fits.NotFittable, match="at least 4"):
        fits.fit_with_correction([64, 128, 256, 512], [1.0, 0.5, 0.25, 0.01], [0.01] * 4)


def test_fit_with_correction_reports_a_failed_or_singular_fit(monkeypatch):
    from scipy import optimize

    widths = [64, 128, 256, 512, 1024]
    values = [1.0 / n for n in widths]
    stderr = [0.01 / n for n in widths]

    def no_convergence(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found")

    monkeypatch.setattr(optimize, "curve_fit", no_convergence)
    with pytest.raises(fits.NotFittable, match="did not converge"):
        fits.fit_with_correction(widths, values, stderr)
    monkeypatch.setattr(optimize, "curve_fit",
                        lambda *a, **k: (np.zeros(3), np.full((3, 3), np.inf)))
    with pytest.raises(fits.NotFittable, match="singular fit"):
        fits.fit_with_correction(widths, values, stderr)
