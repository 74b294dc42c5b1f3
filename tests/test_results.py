"""results: Scaling built from samples against an independent fit, JSON round trips,
Report look-ups and load errors."""

import csv
import dataclasses
import json

import numpy as np
import pytest

from widenets_nb import fits, plots, results


def _samples(widths, slope, count, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    return [n**slope * (1 + rng.normal(0, noise, count)) for n in widths]


def test_scaling_matches_fit_exponent_and_moments():
    widths = (16, 32, 64, 128)
    samples = _samples(widths, -1.0, 400)
    s = results.scaling("C", widths, samples, predicted=-1.0, labels={"row": 4})
    fit = fits.fit_exponent(widths, samples)
    assert s.slope == fit.slope and s.slope_ci == fit.slope_ci and s.intercept == fit.intercept
    assert s.values == fit.values and s.stderr == fit.stderr
    assert s.counts == (400,) * 4 and all(s.resolved) and s.window == (16, 128)
    assert abs(s.slope + 1) < 0.03 and s.method == results.BOOTSTRAP
    assert s.labels == {"row": "4"} and s.predicted == -1.0


def test_unresolved_widths_leave_the_fit_and_too_few_mean_not_fitted():
    widths = (16, 32, 64, 128)
    rng = np.random.default_rng(1)
    samples = [1 / n + rng.normal(0, 0.001, 200) for n in widths[:3]] + [
        rng.normal(0, 1.0, 200)]
    s = results.scaling("C", widths, samples)
    assert s.resolved == (True, True, True, False) and s.unresolved == (128,)
    assert s.window == (16, 64)
    two = results.scaling("C", widths[:3], samples[:2] + samples[3:])  # 2 resolved widths
    assert not two.fitted and two.slope is None and two.method == results.NONE
    assert "only 2 of 3 widths resolved" in two.note and two.label() == "not fitted"
    assert "not fitted" in two.summary() and two.counts == (200,) * 3


def test_few_initializations_get_the_t_interval_and_exact_values_their_slope():
    widths = (16, 32, 64, 128)
    exact = [2 / n * (1 + 4 / n) for n in widths]
    samples = [e * (1 + np.random.default_rng(n).normal(0, 0.1, 8)) for n, e in
               zip(widths, exact, strict=True)]
    s = results.scaling("C", widths, samples, exact=exact)
    assert s.method == results.STUDENT and s.counts == (8,) * 4
    assert "t-interval" in s.summary() and "8+ samples per width" in s.summary()
    weights = (np.abs(s.values) / np.array(s.stderr)) ** 2  # the fit's own weights
    c = fits.slope_coefficients(widths, weights)
    assert s.exact_slope == pytest.approx(float(c @ np.log(exact)), abs=1e-10)
    assert -1.2 < s.exact_slope < -1.0  # the 4/n correction steepens the local slope
    assert results.Scaling.from_json(json.loads(json.dumps(s.to_json()))) == s
    with pytest.raises(ValueError, match="4 widths but 3 exact values"):
        results.scaling("C", widths, samples, exact=exact[:3])


def test_corrected_fit_is_attached_when_asked():
    widths = (16, 32, 64, 128, 256)
    rng = np.random.default_rng(2)
    samples = [n**-1.0 * (1 + 20 / n) * (1 + rng.normal(0, 0.01, 2000)) for n in widths]
    s = results.scaling("C", widths, samples, correction=True)
    assert s.corrected is not None and abs(s.corrected.slope + 1) < 0.1
    assert abs(s.corrected.correction - 20) < 5


def test_format_slope():
    assert results.format_slope(-1.0312, (-1.1, -0.95)) == "-1.03 [-1.10, -0.95]"
    assert results.format_slope(0.5, None, 1) == "+0.5"
    assert results.format_slope(None, (0, 1)) == "not fitted"


def test_report_round_trip_and_lookup(tmp_path):
    widths = (8, 16, 32, 64)
    a = results.scaling("A", widths, _samples(widths, -1, 100), labels={"act": "relu"},
                        correction=True)
    b = results.scaling("B", widths, _samples(widths, -2, 100, 1), labels={"act": "tanh"})
    report = results.Report("demo", {"widths": widths, "inits": np.int64(100)}, (a, b),
                            {"extra": np.arange(3)}, "md")
    back = results.Report.from_json(json.loads(json.dumps(report.to_json())))
    assert back.scalings == (a, b) and back.protocol == {"widths": [8, 16, 32, 64],
                                                         "inits": 100}
    assert back.data == {"extra": [0, 1, 2]}
    assert back.find(act="tanh") == b and back.select(act="gelu") == ()
    with pytest.raises(KeyError, match="0 scalings"):
        back.find(act="gelu")
    results.save(report, "quick", 1.5, tmp_path)
    loaded = results.load("demo", "quick", tmp_path)
    assert loaded.provenance.wall_time_s == 1.5 and loaded.scalings == (a, b)
    with pytest.raises(FileNotFoundError, match="reproduce demo --profile standard"):
        results.load("demo", "standard", tmp_path)
    with pytest.raises(ValueError, match="not a widenets report"):
        results.Report.from_json({"target": "x"})


def test_scaling_figure_draws_points_fit_and_prediction():
    widths = (16, 32, 64, 128)
    s = results.scaling("C", widths, _samples(widths, -1.0, 300), predicted=-1.0)
    fig = plots.scaling_figure([s], "title", guides={"n^-1/2": -0.5})
    points, fit, predicted, guide = fig.data
    assert list(points.x) == list(widths)
    np.testing.assert_allclose(points.y, np.abs(s.values))
    np.testing.assert_allclose(points.error_y.array, s.stderr)
    np.testing.assert_allclose(np.log(fit.y[-1] / fit.y[0]) / np.log(fit.x[-1] / fit.x[0]),
                               s.slope)
    assert s.label() in points.name and "n^-1" in predicted.name
    np.testing.assert_allclose(guide.y[-1] / guide.y[0], (128 / 16) ** -0.5)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    hidden = dataclasses.replace(s, resolved=(True, True, True, False))
    traces = plots.scaling_figure(hidden, "t").data
    assert [t.marker.symbol for t in traces[:2]] == ["circle", "circle-open"]


def test_to_csv_is_a_row_per_scaling_and_width_with_its_fit(tmp_path):
    widths = (8, 16, 32)
    samples = _samples(widths, -1.0, 50)
    fitted = results.scaling("A", widths, samples, labels={"act": "relu", "width": "x"})
    noise = [np.random.default_rng(k).normal(0, 1, 40) for k in range(2)]
    flat = results.scaling("B", widths[:2], noise, labels={"act": "tanh"})  # not fitted
    report = results.Report("demo", {"seed": 5, "widths": widths}, (fitted, flat))
    results.save(report, "quick", 2.0, tmp_path)
    path = results.save_csv(results.load("demo", "quick", tmp_path), tmp_path / "demo.csv")
    lines = path.read_text().splitlines()
    meta = [line for line in lines if line.startswith("#")]
    assert meta[0] == f"# widenets {results.__version__}: demo" and len(meta) == 3
    assert json.loads(meta[1].removeprefix("# provenance: "))["wall_time_s"] == 2.0
    assert json.loads(meta[2].removeprefix("# protocol: ")) == {"seed": 5, "widths": [8, 16, 32]}
    rows = list(csv.DictReader(lines[len(meta):]))
    # labels are columns; one named like a fixed column is prefixed
    assert list(rows[0])[:6] == ["name", "statistic", "act", "label_width", "width", "value"]
    assert [(r["name"], r["act"], r["label_width"], int(r["width"])) for r in rows] == [
        ("A", "relu", "x", 8), ("A", "relu", "x", 16), ("A", "relu", "x", 32),
        ("B", "tanh", "", 8), ("B", "tanh", "", 16)]
    for r, x in zip(rows, samples + noise, strict=True):  # moments computed here
        assert float(r["value"]) == pytest.approx(x.mean(), rel=1e-12)
        assert float(r["stderr"]) == pytest.approx(x.std(ddof=1) / np.sqrt(x.size), rel=1e-12)
        assert int(r["n_samples"]) == x.size
    assert [r["resolved"] for r in rows[:3]] == ["True"] * 3
    assert {(float(r["slope"]), float(r["slope_ci_low"]), float(r["slope_ci_high"]),
             r["method"], r["window_low"], r["window_high"]) for r in rows[:3]} == {
        (fitted.slope, *fitted.slope_ci, fitted.method, "8", "32")}
    assert all(r["slope"] == r["slope_ci_low"] == r["window_low"] == "" for r in rows[3:])
    assert rows[3]["method"] == results.NONE and "resolved" in rows[3]["note"]
