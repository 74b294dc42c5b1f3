"""Notebook 03's panels, headless, and the training figure builders with real values."""

import numpy as np
import pytest

# one cache for the module: the three drift panels share their training runs
from test_training_experiments import _private_cache  # noqa: F401

from widenets_nb.paper import SLOPES
from widenets_nb.results import Scaling
from widenets_nb.training import experiments as te
from widenets_nb.training import figures, panel

DRIFT = te.DriftProtocol(activations=("tanh",), optimizers=("gd",), widths=(8, 16, 32),
                         samples_per_class=2, steps=16, batch_size=2, inits=8, components=2,
                         variance_widths=(8, 16, 32), variance_inits=64)
LINEARITY = te.LinearityProtocol(widths=(8, 16), inits=4, samples_per_class=2)
LIMIT = te.LimitProtocol(activations=("erf",), widths=(4, 8), inits=64, samples_per_class=2)


def _ys(p) -> list[tuple]:
    return [tuple(np.asarray(t.y, dtype=float)) for t in p.figure.data]


def _run(p, **values) -> None:
    for name, value in values.items():
        p.controls[name].value = value
    p.button.click()
    assert p.wait(timeout=300)


def _is_error(p, text: str) -> bool:
    status = p.status.value
    return text in status and "color:#b00" in status and "\n" not in status


@pytest.mark.parametrize("build", [panel.drift_panel, panel.drift_step_panel,
                                   panel.variance_panel])
def test_drift_panels_follow_their_controls(build, monkeypatch):
    p = build(DRIFT)
    before = _ys(p)
    assert before and "exponent" in p.status.value
    assert p.progress_text.value == "3 / 3 widths"  # drawn one width at a time
    _run(p, steps=32)
    after = _ys(p)
    assert after != before and "exponent" in p.status.value
    # a setting computed before answers from the panel's memory, without training
    monkeypatch.setattr(te, "train_many", lambda *a, **k: pytest.fail("trained again"))
    _run(p, steps=16)
    assert _ys(p) == before
    _run(p, log2_min_width=4, log2_max_width=4)
    assert _is_error(p, "the largest width must exceed the smallest")
    assert _ys(p) == before


def test_drift_panels_share_the_disk_cache(monkeypatch):
    panel.drift_panel(DRIFT)  # trains (or finds) the runs
    monkeypatch.setattr(te, "train_many", lambda *a, **k: pytest.fail("trained again"))
    p = panel.variance_panel(DRIFT)
    assert len(p.figure.data) > 0 and "Var[Θ_0]" in p.figure.data[0].name


def test_linearity_panel_follows_eta_and_reports_bad_protocols():
    p = panel.linearity_panel(LINEARITY)
    before = _ys(p)
    assert [t.name.split(":")[0] for t in p.figure.data if t.mode == "markers"][:3] == [
        "η = 1", "η = 4", "η = 16"]
    _run(p, log2_eta=3)
    assert _ys(p) != before and "η = 2, 8, 32" in p.status.value
    bad = panel.linearity_panel(te.LinearityProtocol(widths=(8,), inits=1,
                                                     samples_per_class=2))
    assert _is_error(bad, "need at least 2 samples") and len(bad.figure.data) == 0


def test_limit_panel_follows_depth_and_reports_bad_protocols():
    p = panel.limit_panel(LIMIT)
    before = _ys(p)
    assert p.status.value.startswith("Θ_∞ = erf: ")
    a1 = te.limit_theory(LIMIT)["erf"]
    assert f"1/n theory a_1 = erf: {a1:+.4f}" in p.status.value
    line = next(t for t in p.figure.data if t.name.startswith("erf: 1/n theory"))
    np.testing.assert_allclose(np.asarray(line.y) * np.asarray(line.x), abs(a1), rtol=1e-9)
    _run(p, depth=3)
    assert _ys(p) != before
    bad = panel.limit_panel(te.LimitProtocol(activations=("erf",), widths=(4,), inits=1,
                                             samples_per_class=2))
    assert _is_error(bad, "need at least 2 samples") and len(bad.figure.data) == 0


@pytest.fixture(scope="module")
def committed() -> te.Fig1a:
    return te.Fig1a.load("standard")


def _markers(fig) -> dict[str, np.ndarray]:
    return {t.name: np.asarray(t.y, dtype=float) for t in fig.data if t.mode == "markers"}


def test_drift_figure_shows_the_committed_fits_and_both_guides(committed):
    scalings = committed.scalings("drift", optimizer="gd")
    names = [s.labels["activation"] for s in scalings]
    fig = figures.drift(scalings, names)
    markers = _markers(fig)
    for name, s in zip(names, scalings, strict=True):
        np.testing.assert_array_equal(markers[f"{name}: {s.label()}"], s.values)
    n = np.asarray(scalings[0].widths, dtype=float)
    for label, slope in figures.DRIFT_GUIDES.items():
        (guide,) = [t for t in fig.data if t.name == label]
        np.testing.assert_allclose(guide.y, scalings[0].values[0] * (n / n[0]) ** slope)
    assert figures.DRIFT_GUIDES["n^-1/2 (Jacot et al.)"] == SLOPES["fig1a.jacot_bound"].value


def test_variance_figure_draws_both_theorems(committed):
    scalings = [committed.report.find(quantity="variance_init", activation="relu"),
                committed.report.find(quantity="variance_drift", activation="relu",
                                      optimizer="gd")]
    fig = figures.variances(scalings)
    for s in scalings:
        np.testing.assert_array_equal(_markers(fig)[f"{s.name}: {s.label()}"], s.values)
        (predicted,) = [t for t in fig.data if t.name == f"{s.name}: predicted n^{s.predicted:+g}"]
        ratio = predicted.y[-1] / predicted.y[0]
        assert ratio == pytest.approx((s.widths[-1] / s.widths[0]) ** s.predicted)
    assert [s.predicted for s in scalings] == [-1.0, -2.0]


def test_linearity_and_limit_figures_name_eta_and_activation(committed):
    fig = figures.linearity(committed.scalings("linearity"))
    assert sorted(_markers(fig)) == sorted(f"η = {s.labels['eta']}: {s.label()}"
                                           for s in committed.scalings("linearity"))
    relu = committed.report.find(quantity="limit", activation="relu")
    fig = figures.limit(committed.scalings("limit"))
    markers = _markers(fig)
    np.testing.assert_array_equal(markers["relu (unresolved)"],
                                  np.abs([v for w, v in zip(relu.widths, relu.values,
                                                            strict=True)
                                          if w in relu.unresolved]))
    assert markers[f"relu: {relu.label()}"].tolist() == [
        abs(v) for w, v in zip(relu.widths, relu.values, strict=True)
        if w not in relu.unresolved]


def test_drift_vs_step_averages_components_and_inits():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(1, 1, 2, 3, 2, 3))  # (A, O, W, I, M, R)
    empty: dict[tuple[str, str], Scaling] = {}
    result = te.DriftResult(te.DriftProtocol(widths=(8, 16), inits=3), np.zeros((2, 2)),
                            np.array([0, 1, 2]), theta, np.zeros((1, 1, 2, 3, 3)), empty,
                            empty, {}, empty, initial=np.zeros((1, 2, 3)))
    fig = figures.drift_vs_step(result)
    change = np.abs(theta[0, 0, ..., 1:] - theta[0, 0, ..., :1]).mean(-2)  # (W, I, 2)
    for trace, width, runs in zip(fig.data, (8, 16), change, strict=True):
        assert trace.name == f"n = {width}" and list(trace.x) == [1, 2]
        np.testing.assert_allclose(trace.y, runs.mean(0))
        np.testing.assert_allclose(trace.error_y.array, runs.std(0, ddof=1) / np.sqrt(3))
