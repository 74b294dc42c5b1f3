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
    samples = [np.concatenate([half, -half]) + (n <= 64) for n in WIDTHS]  # two resolved
    with pytest.raises(NotFittable, match="only 2 of 5 widths resolved"):
        fit_exponent(WIDTHS, samples)
    with pytest.raises(ValueError, match="widths"):
        fit_exponent(WIDTHS[:2], samples)
    with pytest.raises(ValueError, match="unknown method"):
        fit_exponent(WIDTHS, samples, method="jackknife")


def _power_law(rng, count, widths=WIDTHS[:4], noise=0.3):
    """Normal samples with mean 2 n^-1 and relative noise ``noise``."""
    return [2 / n * (1 + noise * rng.standard_normal(count)) for n in widths]


def test_auto_method_follows_the_sample_size():
    rng = np.random.default_rng(5)
    assert fit_exponent(WIDTHS[:4], _power_law(rng, 8)).method == fits.STUDENT
    assert fit_exponent(WIDTHS[:4], _power_law(rng, 30), resamples=50).method == fits.BOOTSTRAP
    with pytest.raises(NotFittable, match="needs 30 initializations per width, got 8"):
        fit_exponent(WIDTHS[:4], _power_law(rng, 8), method="bootstrap")
    with pytest.raises(NotFittable, match="needs 20 initializations per width, got 12"):
        fit_exponent(WIDTHS[:4], _power_law(rng, 12), method="blocks")
    with pytest.raises(NotFittable, match="needs 8 initializations per width, got 7"):
        fit_exponent(WIDTHS[:4], _power_law(rng, 7))
    with pytest.raises(NotFittable, match="variance fitted .* needs 30"):  # fourth moments
        fit_exponent(WIDTHS[:4], _power_law(rng, 20), "variance")


def test_student_interval_is_the_weighted_fit_covariance_with_satterthwaite_dof():
    from scipy import stats

    rng = np.random.default_rng(6)
    n = np.array(WIDTHS[:4], dtype=float)
    samples = _power_law(rng, 8)
    fit = fit_exponent(n, samples)
    values = np.array([x.mean() for x in samples])
    rel = np.array([x.std(ddof=1) / np.sqrt(8) for x in samples]) / values
    _, cov = np.polyfit(np.log(n), np.log(values), 1, w=1 / rel, cov="unscaled")
    half = (fit.slope_ci[1] - fit.slope_ci[0]) / 2
    assert fit.slope == pytest.approx((fit.slope_ci[0] + fit.slope_ci[1]) / 2, abs=1e-12)
    nu = half**2 / cov[0, 0]  # t_nu^2: between the per-width 7 and the pooled 28 dof
    assert stats.t.ppf(0.975, 28) ** 2 < nu < stats.t.ppf(0.975, 7) ** 2
    equal = fits.student_interval(n, 1 / n, 0.1 / n, [7] * 4)  # equal terms: nu = 4 * 7
    coefficients = fits.slope_coefficients(n, np.ones(4))
    if np.allclose(np.abs(coefficients), np.abs(coefficients[0])):
        raise AssertionError("unequal coefficients expected at four log-spaced widths")
    spread = np.sqrt(np.sum(coefficients**2) * 0.01)
    terms = coefficients**2 * 0.01
    dof = terms.sum() ** 2 / np.sum(terms**2 / 7)
    assert (equal[1] - equal[0]) / 2 == pytest.approx(stats.t.ppf(0.975, dof) * spread)


def test_blocks_interval_is_the_jackknife_of_block_means():
    """For a mean the delete-a-block jackknife variance of a mean is var(block means) / B;
    the slope's is that of the blocks' weighted combination sum_i c_i (block_i / mean_i)
    (linear in the log-means to first order: 0.5% noise per block)."""
    from scipy import stats

    rng = np.random.default_rng(7)
    n = np.array(WIDTHS[:4], dtype=float)
    samples = _power_law(rng, 1000, noise=0.05)
    fit = fit_exponent(n, samples, method="blocks")
    assert fit.method == fits.BLOCKS
    values = np.array([x.mean() for x in samples])
    weights = (values / np.array([x.std(ddof=1) / np.sqrt(1000) for x in samples])) ** 2
    c = fits.slope_coefficients(n, weights)
    combined = sum(ci * fits.block_values(x, "mean") / x.mean()
                   for ci, x in zip(c, samples, strict=True))
    sigma = np.sqrt(combined.var(ddof=1) / fits.BLOCK_COUNT)
    half = (fit.slope_ci[1] - fit.slope_ci[0]) / 2
    assert half == pytest.approx(stats.t.ppf(0.975, fits.BLOCK_COUNT - 1) * sigma, rel=0.01)
    with pytest.raises(ValueError, match="no 10 blocks"):
        fits.block_values(np.ones(15), "mean")


@pytest.mark.parametrize(("method", "count"), [("student", 8), ("bootstrap", 40)])
def test_confidence_intervals_cover_the_true_exponent(method, count):
    """200 synthetic power laws (exponent -1): the 95% interval covers -1 in 90-99% of
    them (binomial sd 1.5%); the full check is ``benchmarks/coverage.py``."""
    rng = np.random.default_rng(8)
    hits = sum(
        fit.slope_ci[0] <= -1 <= fit.slope_ci[1]
        for fit in (fit_exponent(WIDTHS[:4], _power_law(rng, count), resamples=200, seed=r,
                                 method=method) for r in range(200)))
    assert 0.90 * 200 <= hits <= 0.99 * 200


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


def test_blocks_interval_covers_a_heavy_tailed_mean():
    """Means of g^4 / n, g ~ N(0, 1) (the fourth power of a normal, as in a product of four
    tensors; exponent -1 exactly), 1000 samples per width: the blocks' 95% interval covers
    -1 in 90-99% of 300 repetitions (binomial sd 1.3%). Its t quantile on 9 degrees of
    freedom pays for the noise of the estimated spread: the kurtosis of g^4 is 207, so the
    plug-in standard error is worth only 2 N / (kurtosis - 1) = 9.7 degrees of freedom
    (``benchmarks/results/coverage.md``)."""
    rng = np.random.default_rng(8)
    hits = 0
    for _ in range(300):
        fit = fit_exponent(WIDTHS[:4], [rng.standard_normal(1000) ** 4 / n
                                        for n in WIDTHS[:4]], method="blocks")
        hits += fit.slope_ci[0] <= -1 <= fit.slope_ci[1]
    assert 0.90 * 300 <= hits <= 0.99 * 300


def test_tables_give_heavy_tailed_variances_the_blocks_interval():
    """Rows 2, 4, 5, 6 (four or more tensors) of Table 3 get ``fits.BLOCKS``; Table 1's
    means keep the bootstrap (``fits`` docstring: it covers 0.94 at the tables' widths);
    and ``_scaling`` passes the choice to the fit."""
    from widenets_nb.correlators import experiments
    from widenets_nb.correlators.estimate import Measurement
    from widenets_nb.nets import Network

    for table, expected in (("table1", ["auto"] * 6),
                            ("table3", ["auto", "blocks", "auto", "blocks", "blocks", "blocks"])):
        specs = experiments.TableProtocol.for_profile("standard", table=table).specs
        assert [experiments.interval_method(s) for s in specs] == expected
    var4 = experiments.TableProtocol.for_profile("standard", table="table3").specs[1]
    rng = np.random.default_rng(9)
    net = Network(input_dim=4, width=8, depth=1, activation="tanh")
    samples = tuple(1 / n + 0.1 / n * rng.standard_normal(40) for n in (8, 16, 32))
    m = Measurement(var4, (8, 16, 32), samples, np.zeros((4, 4)), net)
    assert experiments._scaling(m, seed=0).method == fits.BLOCKS
