"""Notebook 04's panels, headless, and the trajectory figure with real values."""

import dataclasses

import numpy as np
import pytest

from widenets_nb import config, results
from widenets_nb.corrections import experiments, figures, panel

#: A tiny run: 4 training and 2 test images, width 64, 10 steps.
TINY = experiments.TrajectoryProtocol(width=64, steps=10, per_class=2, test_per_class=1)


@pytest.fixture(scope="module")
def committed():
    return experiments.Fig11.from_report(results.load("fig11", "standard"))


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path_factory.getbasetemp() / "panels")


def _ys(widget):
    return [np.asarray(trace.y, dtype=float) for trace in widget.data]


def test_trajectory_panel_runs_and_follows_its_controls(cache):
    p = panel.trajectory_panel(TINY)
    assert p.controls["log2_width"].value == 6 and p.controls["log10_steps"].value == 1
    assert "max error" in p.status.value
    before = _ys(p.figure)
    assert len(before) == 3 * (1 + len(experiments.PREDICTIONS))
    p.controls["log10_steps"].value = 2
    p.button.click()
    assert p.wait(120)
    after = _ys(p.figure)
    assert len(after[0]) > len(before[0])  # more recorded steps
    # the actual run's f(training image 0) is the trained network's, from the cached run
    run = experiments.trajectory(dataclasses.replace(TINY, steps=100))
    np.testing.assert_array_equal(after[0], run.actual_f[1:, 0])
    p.controls["theta_column"].value = "first"
    p.button.click()
    assert p.wait(120)
    np.testing.assert_array_equal(_ys(p.figure)[-5], run.actual_theta[1:, 0, 0])


def test_trajectory_panel_shows_a_divergence_as_one_line(cache):
    """eta = 50 is far above 2 / lambda_max(Theta_0) even on 4 images: GD and the
    recursion blow up."""
    p = panel.trajectory_panel(TINY)
    p.controls["learning_rate"].max = 60.0
    p.controls["learning_rate"].value = 50.0
    p.controls["log10_steps"].value = 3
    p.button.click()
    assert p.wait(120)
    assert "diverge" in p.status.value and "\n" not in p.status.value
    assert "Traceback" not in p.status.value


def test_error_panel_draws_the_scalings(committed):
    p = panel.error_panel(committed)
    view = committed.view("tanh", "theta")
    markers = [t for t in p.figure.data if t.mode == "markers"]
    np.testing.assert_allclose(np.concatenate([t.y for t in markers]),
                               np.concatenate([s.values for s in view]))
    assert any(view[-1].label() in t.name for t in markers)
    p.controls["quantity"].value = "f_train"
    p.controls["activation"].value = "gelu"
    p.button.click()
    expected = committed.scaling("gelu", "f_train", "corrected_discrete")
    ys = [t.y for t in p.figure.data if t.mode == "markers"]
    np.testing.assert_allclose(ys[-1], expected.values)
    assert "predicted -2" in p.status.value


def test_error_panel_shows_a_missing_quantity_as_one_line(committed):
    partial = dataclasses.replace(committed, scalings=tuple(
        s for s in committed.scalings if s.labels["quantity"] != "f_test"))
    p = panel.error_panel(partial)
    p.controls["quantity"].value = "f_test"
    p.button.click()
    assert "no leading_continuous error of f_test" in p.status.value
    assert "\n" not in p.status.value


def test_trajectories_figure_draws_the_committed_example(committed):
    traces = committed.examples["tanh", 2048]
    fig = figures.trajectories(traces, "tanh, width 2048")
    assert len(fig.data) == 3 * 5
    assert [a.text for a in fig.layout.annotations] == [traces.labels[q]
                                                        for q in experiments.QUANTITIES]
    keep = traces.steps > 0
    by_name = {(t.name, t.xaxis): t for t in fig.data}
    np.testing.assert_array_equal(by_name["actual run", "x"].y, traces.actual["f_train"][keep])
    np.testing.assert_array_equal(by_name["actual run", "x3"].y, traces.actual["theta"][keep])
    label = experiments.PREDICTIONS["corrected_discrete"]
    np.testing.assert_array_equal(by_name[label, "x2"].y,
                                  traces.predicted["corrected_discrete"]["f_test"][keep])
    np.testing.assert_array_equal(by_name[label, "x2"].x, traces.steps[keep])
    assert fig.layout.xaxis.type == "log"
    # the O(1/n) recursion stays within 1e-4 of the run at width 2048; the constant kernel
    # drifts away by more than ten times that on the kernel
    gap = np.abs(by_name[label, "x3"].y - by_name["actual run", "x3"].y).max()
    lead = experiments.PREDICTIONS["leading_discrete"]
    drift = np.abs(by_name[lead, "x3"].y - by_name["actual run", "x3"].y).max()
    assert gap < 1e-4 < drift / 10


def test_trajectory_stages_give_the_run_with_the_constant_kernel_predictions_first(cache):
    """The panel's first figure (run + leading order) comes before the O(1/n) one, with the
    same run; the last stage is ``trajectory``."""
    first, last = experiments.trajectory_stages(dataclasses.replace(TINY, steps=20))
    assert sorted(first.predictions) == sorted(p for p in experiments.PREDICTIONS
                                               if p.startswith("leading"))
    assert sorted(last.predictions) == sorted(experiments.PREDICTIONS)
    np.testing.assert_array_equal(first.actual_f, last.actual_f)
    for name, per in first.predictions.items():
        np.testing.assert_array_equal(per["f"], last.predictions[name]["f"])
    again = experiments.trajectory(dataclasses.replace(TINY, steps=20))
    np.testing.assert_array_equal(again.predictions["corrected_discrete"]["theta"],
                                  last.predictions["corrected_discrete"]["theta"])
