"""Notebook 05 panels, headless: a control change and Run redraw; a repeated Run reads the
cache; bad input is one line in the panel."""

import dataclasses
import html

import numpy as np
import pytest

from widenets_nb import config
from widenets_nb.spectra import ExplorerProtocol, measurements, panel

TINY = ExplorerProtocol(log2_width=4, max_log2_width=5, per_class=2, steps=20, count=3,
                        probes=4, krylov=8, density_probes=1, points=40)
PANELS = (panel.top_eigenvalues_panel, panel.moments_panel, panel.density_panel)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path_factory.getbasetemp() / "panel_cache")


def _data(p):
    return [(tuple(t.x), tuple(t.y)) for t in p.figure.data]


def _refuse(*args, **kwargs):
    raise AssertionError("computed again instead of reading the cache")


@pytest.mark.parametrize("build", PANELS)
def test_a_control_change_and_run_redraw_and_a_repeat_reads_the_cache(build, monkeypatch):
    p = build(TINY)
    assert "color:#b00" not in p.status.value and p.figure.data
    before = _data(p)
    p.controls["log2_width"].value = 5
    p.button.click()
    assert "color:#b00" not in p.status.value, p.status.value
    after = _data(p)
    assert after != before
    # a new panel (a restarted kernel: no panel memory) answers from the disk cache
    for name in ("trained", "eigenvalue_gaps", "moment_gaps", "density"):
        monkeypatch.setattr(measurements, name, _refuse)
    again = build(TINY)
    again.controls["log2_width"].value = 5
    again.button.click()
    assert "color:#b00" not in again.status.value, again.status.value
    assert _data(again) == after


@pytest.mark.parametrize("build,bad,message", [
    (panel.top_eigenvalues_panel, {"count": -1}, "need 0 < k <= krylov"),
    (panel.moments_panel, {"probes": 1}, "need probes >= 2"),
    (panel.density_panel, {"krylov": 10**9}, "krylov must lie in 1..P"),
])
def test_bad_input_is_one_line_in_the_panel(build, bad, message):
    p = build(dataclasses.replace(TINY, **bad))
    status = html.unescape(p.status.value)
    assert message in status and "color:#b00" in status
    assert "\n" not in status and "Traceback" not in status


def test_the_certificate_line_counts_resolved_and_paired_values():
    c = measurements.TopComparison(
        hessian=np.array([1.0, 0.5, 0.4999]), theta=np.array([0.9, 0.3, 0.1]),
        bounds=np.array([1e-6, 1e-4, 1e-4]), gaps=np.array([0.5, 1e-4, 1e-4]),
        resolved=np.array([True, False, False]), overlaps=np.array([0.9, 0.8, 0.1]),
        matched=np.array([0, 1, 2]))
    line = panel.certificate_line(c)
    assert "1 of the top 3 eigenvalues of H resolved" in line
    assert "1 pair with Θ" in line and "|λ₁(H) − λ₁(Θ)| = 1.00e-01" in line
    assert "largest bound/gap 1.0e+00" in line
    unresolved = dataclasses.replace(c, resolved=np.array([False, False, False]))
    assert "λ₁(H) unresolved" in panel.certificate_line(unresolved)
