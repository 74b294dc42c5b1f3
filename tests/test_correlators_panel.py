"""Notebook 01's panel headlessly, and the correlator figure builders with real values."""

import dataclasses
import html
import threading

import numpy as np
import pytest

from widenets_nb import config, fits, kernels
from widenets_nb.correlators import estimate, experiments, figures, panel
from widenets_nb.correlators.estimate import measure
from widenets_nb.nets import Network

SMALL = experiments.ScalingProtocol("f1_a f2_a", (4, 8, 16), 20, seed=3, depth=1)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def test_correlator_scaling_is_measured_once_then_read_from_disk(cache_dir, monkeypatch):
    s = experiments.correlator_scaling(SMALL)
    m = measure(SMALL.spec, SMALL.widths, SMALL.inits, SMALL.seed, depth=1)
    assert np.allclose(s.values, m.values, rtol=1e-12) and s.counts == (20, 20, 20)
    assert s.predicted == 0 and s.labels == {"activation": "tanh", "depth": "1",
                                             "init": "gaussian"}
    assert s.slope == pytest.approx(fits.fit_exponent(m.widths, m.samples, seed=3).slope,
                                    rel=1e-12)
    assert len(list(cache_dir.glob("*.npz"))) == len(SMALL.widths)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again")

    monkeypatch.setattr(estimate, "sample_integrands", no_sampling)
    assert experiments.correlator_scaling(SMALL) == s  # as after a kernel restart


def test_correlator_figure_draws_the_scaling(cache_dir):
    s = experiments.correlator_scaling(SMALL)
    fig = figures.correlator_figure(s)
    points = fig.data[0]
    assert list(points.x) == [w for w, r in zip(s.widths, s.resolved, strict=True) if r]
    assert np.allclose(points.y, [abs(v) for v, r in zip(s.values, s.resolved, strict=True)
                                  if r])
    assert s.label() in points.name
    predicted = next(t for t in fig.data if "predicted" in t.name)
    assert np.allclose(np.log(predicted.y[-1] / predicted.y[0]), 0.0)  # slope s_C = 0
    assert "f1_a f2_a: activation tanh, depth 1" in fig.layout.title.text


def test_cluster_graph_figure_of_row_6():
    fig = figures.cluster_graph_figure("table1.row6")
    vertices = [t for t in fig.data if t.mode == "markers+text"]
    edges = [t for t in fig.data if t.mode == "lines"]
    assert [t.text[0] for t in vertices] == ["f1_a", "f2_b", "f3_ab", "f4_c", "f5_d", "f6_cd"]
    assert len(edges) == 4 and sorted(a.text for a in fig.layout.annotations) == list("abcd")
    colors = [t.marker.color for t in vertices]  # two components of three tensors
    assert colors[0] == colors[1] == colors[2] != colors[3] == colors[4] == colors[5]
    assert "n_e = 0, n_o = 2, m = 6 → s_C = -2" in fig.layout.title.text


def _run(p) -> None:
    p.button.click()
    assert p.wait(timeout=120)


def test_panel_runs_answers_repeats_from_memory_and_reports_bad_text(cache_dir):
    p = panel.correlator_panel(experiments.ScalingProtocol("f1_a f2_a", (4, 8, 16), 20,
                                                           depth=1), max_inits=100)
    first = np.array(p.figure.data[0].y)
    assert "exponent" in p.status.value and "predicted +0" in p.status.value
    assert p.progress_text.value == "60 / 60 initializations"
    p.controls["inits"].value = 40
    _run(p)
    assert not np.allclose(np.array(p.figure.data[0].y), first)
    assert len(p.memory) == 2

    calls = []
    compute = p.compute
    p.compute = lambda **values: calls.append(values) or compute(**values)
    p.controls["inits"].value = 20
    _run(p)  # computed before: from memory
    assert calls == [] and np.allclose(np.array(p.figure.data[0].y), first)

    p.controls["spec"].value = "f1_a f2_a f3_b"
    _run(p)
    assert "bad correlator at position" in p.status.value and "\n" not in p.status.value
    assert "color:#b00" in p.children[1].value  # the formula box says so too
    p.controls["spec"].value = "table1.row3"  # a table row's name reads as its correlator
    _run(p)
    assert "f1_a f2_a: exponent" in p.status.value


def test_panel_draws_each_width_and_its_last_update_is_the_full_scaling(cache_dir):
    updates = list(panel.scaling_updates("f1_a f2_a", "tanh", 1, "gaussian", (2, 4), 20,
                                         seed=3))
    drawn = [u for u in updates if u.figure is not None]
    assert [(u.done, u.total) for u in updates] == [(0, 60), (20, 60), (20, 60), (40, 60),
                                                     (40, 60), (60, 60), (60, 60)]
    assert [len(u.figure.data[0].x) for u in drawn] == [1, 2, 3]
    assert all(u.unit == "initializations" for u in updates)
    s = experiments.correlator_scaling(SMALL)
    assert updates[-1].status.split("<br>")[0] == html.escape(s.summary())
    np.testing.assert_array_equal(updates[-1].figure.data[0].y, np.abs(s.values))


def test_panel_reports_initializations_before_a_width_ends_and_measures_each_once(
        cache_dir, monkeypatch):
    """70 initializations per width, sampled in chunks of 32 (dense path, n < 64): three
    reports per width, each before that width is stored; each width is sampled once (the
    fit reads what the progress run stored) and the values are ``correlator_scaling``'s."""
    sampled = []
    sample = estimate.sample_integrands
    monkeypatch.setattr(estimate, "sample_integrands",
                        lambda cs, net, *a, **k: sampled.append(net.widths[0])
                        or sample(cs, net, *a, **k))
    stored = []
    for u in panel.scaling_updates("f1_a f2_a", "tanh", 1, "gaussian", (2, 3), 70, seed=3):
        stored.append((u.done, u.figure is not None, len(list(cache_dir.glob("*.npz")))))
    assert stored == [(0, False, 0), (32, False, 0), (64, False, 0), (70, False, 0),
                      (70, True, 1), (102, False, 1), (134, False, 1), (140, False, 1),
                      (140, True, 2)]
    assert sampled == [4, 8]
    s = experiments.correlator_scaling(dataclasses.replace(SMALL, widths=(4, 8), inits=70))
    assert sampled == [4, 8] and s.counts == (70, 70)


def test_stopping_the_panel_mid_width_keeps_the_finished_widths(cache_dir, monkeypatch):
    """Closing the stream (Stop) after the second width's first chunk (held there until
    then): the first width stays stored, the second ends at its next report, unstored."""
    gate, sample = threading.Event(), estimate.sample_integrands

    def held(cs, net, *args, on_inits, **kwargs):
        def report(done: int) -> None:
            on_inits(done)
            if net.widths[0] == 8:
                assert gate.wait(60)

        return sample(cs, net, *args, on_inits=report, **kwargs)

    monkeypatch.setattr(estimate, "sample_integrands", held)
    updates = panel.scaling_updates("f1_a f2_a", "tanh", 1, "gaussian", (2, 3), 70, seed=3)
    while next(updates).done < 102:
        pass
    updates.close()
    worker = next(t for t in threading.enumerate() if t.name == "widenets-measure")
    gate.set()
    worker.join(60)
    assert not worker.is_alive() and len(list(cache_dir.glob("*.npz"))) == 1


def test_panel_shows_the_1_over_n_theory_where_it_covers_the_correlator(cache_dir):
    # f1_a f2_a is the NTK: its infinite-width value is the analytic NTK of ``kernels``
    # (independent of the recursions), and the measured means agree with E + c/n
    t = experiments.theory_prediction("f1_a f2_a", "tanh", 1)
    x = estimate.default_inputs(2, 4)
    net = Network(input_dim=4, depth=1, activation="tanh")
    theta = kernels.infinite_width(net, x[:1], x[1:]).ntk
    assert t.statistic == "ntk_mean" and t.infinite_width == pytest.approx(
        float(np.ravel(theta)[0]), rel=1e-6)
    fig, status = panel.scaling("f1_a f2_a", "tanh", 1, "gaussian", (2, 4), 20, seed=3)
    assert html.escape(t.summary()) in status.split("<br>")
    line = next(tr for tr in fig.data if tr.name.startswith("1/n theory"))
    np.testing.assert_allclose(line.y, np.abs(t.at(SMALL.widths)), rtol=1e-12)
    s = experiments.correlator_scaling(SMALL)
    assert np.all(np.abs(s.values - t.at(s.widths)) < 4 * np.asarray(s.stderr))
    # not covered: no line, and the reason where a statistic exists but does not apply
    assert experiments.theory_prediction("table1.row5", "tanh", 1) is None
    relu = experiments.theory_prediction("f1 f2 f3 f4", "relu", 2)
    assert relu.infinite_width is None and "at most 2 distinct inputs" in relu.note
    assert "not_covered" not in status
