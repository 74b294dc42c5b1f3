"""Notebook 06's panels headlessly: a Run draws, a changed control changes the figure, the
updates come width by width (depth by depth), bad input gives one line."""

import html

import numpy as np
import pytest

from widenets_nb import config
from widenets_nb.theory import experiments as X
from widenets_nb.theory import panel


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def _run(p) -> None:
    p.button.click()
    assert p.wait(timeout=240)


SMALL = X.CoefficientProtocol("kernel", "linear", 1, widths=(4, 8), inits=200, seed=3)


def test_coefficient_panel_runs_changes_and_reports_bad_input(cache_dir):
    p = panel.coefficient_panel(SMALL, max_inits=1000)
    first = np.array(p.figure.data[0].y)
    assert list(p.figure.data[0].x) == [4, 8] and p.progress_text.value == "2 / 2 widths"
    assert "kernel, linear, depth 1: E_inf" in p.status.value and "predicted c_1 = +0" in (
        p.status.value)
    p.controls["coincide"].value = True  # K(x1, x1): the same networks, other inputs
    _run(p)
    assert not np.allclose(np.array(p.figure.data[0].y), first)
    c = X.coefficient_comparison(X.CoefficientProtocol("kernel", "linear", 1, widths=(4, 8),
                                                       inits=200, seed=3, coincide=True))
    np.testing.assert_allclose(p.figure.data[0].y, c.values)
    assert p.status.value == html.escape(c.summary())
    p.controls["coincide"].value = False
    p.controls["statistic"].value = "four_point"
    p.controls["activation"].value = "relu"  # relu's recursions take 2 inputs at most
    _run(p)
    assert "at most 2 distinct inputs" in p.status.value and "color:#b00" in p.status.value
    assert "\n" not in p.status.value
    p.controls["statistic"].value = "dntk"  # relu's s'' is a delta: no dNTK recursion
    _run(p)
    assert "is a delta (use a smooth activation)" in p.status.value and "color:#b00" in (
        p.status.value)
    assert "\n" not in p.status.value


def test_comparison_updates_come_width_by_width(cache_dir):
    updates = list(panel.comparison_updates("kernel", "linear", 1, False, False, (2, 3), 200,
                                            seed=3))
    assert [(u.done, u.total) for u in updates] == [(0, 2), (1, 2), (2, 2)]
    assert [len(u.figure.data[0].x) for u in updates[1:]] == [1, 2]


def test_depth_width_panel_runs_and_changes(cache_dir):
    p = panel.depth_width_panel(X.DepthWidthProtocol(8, X.depths_for(8), 200), max_inits=1000)
    points = p.figure.data[0]
    assert list(points.x) == [d / 8 for d in X.depths_for(8)]
    assert p.progress_text.value == f"{len(X.depths_for(8))} / {len(X.depths_for(8))} depths"
    assert "ReLU, n = 8" in p.status.value
    first = np.array(points.y)
    p.controls["inits"].value = 300
    _run(p)
    assert not np.allclose(np.array(p.figure.data[0].y), first)
    with pytest.raises(ValueError, match="power of 2"):
        panel.depth_width_panel(X.DepthWidthProtocol(12, (1, 2), 200))
