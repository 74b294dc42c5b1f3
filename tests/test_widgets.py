"""widgets.Panel headless: partial updates drawn as they come, Stop, one-line errors from the
worker thread, plain computations, memory, and a control moved during a Run."""

import threading

import ipywidgets as W
import plotly.graph_objects as go
import pytest

from widenets_nb.widgets import Panel, Update, by_width

TIMEOUT = 10.0


def _figure(points: int) -> go.Figure:
    return go.Figure(go.Scatter(x=list(range(points)), y=[float(k * k) for k in range(points)]))


def _points(panel: Panel) -> int:
    return len(panel.figure.data[0].x)


class Gated:
    """A generator compute over ``total`` widths that, after its first update, waits for
    ``gate``; ``reached`` says the first update has been drawn and the Run is waiting."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.gate, self.reached = threading.Event(), threading.Event()
        self.gate.set()
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, total: int):
        self.calls += 1
        for k in range(1, total + 1):
            if k - 1 == self.fail_after:
                raise RuntimeError("integrand overflowed\n  deep library detail")
            yield Update(_figure(k), f"{k} widths measured", k, total)
            if k == 1:
                self.reached.set()
                assert self.gate.wait(TIMEOUT)

    def hold(self) -> None:
        """The next Run stops after its first update until ``release``."""
        self.gate.clear()
        self.reached.clear()

    def release(self) -> None:
        self.gate.set()


def _panel(compute, total: int = 2, auto: bool = False) -> Panel:
    slider = W.IntSlider(value=total, min=1, max=9, description="widths")
    return Panel({"total": slider}, compute, "a test panel", auto=auto)


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions that escaped a thread (none may: the panel shows them as one line)."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    return seen


def test_the_first_run_is_complete_when_the_panel_is_built():
    compute = Gated()
    p = _panel(compute, total=3)
    assert not p.running and _points(p) == 3 and p.status.value == "3 widths measured"
    assert p.progress_text.value == "3 / 3 widths" and p.progress.value == p.progress.max == 3
    assert p.button.disabled is False and p.stop_button.disabled is True


def _held_run(total: int) -> tuple[Gated, Panel]:
    """A panel whose Run over ``total`` widths waits after drawing its first."""
    compute = Gated()
    p = _panel(compute)
    compute.hold()
    p.controls["total"].value = total
    p.button.click()
    assert compute.reached.wait(TIMEOUT)
    return compute, p


def test_partial_updates_arrive_before_the_end(thread_errors):
    compute, p = _held_run(4)
    # the Run waits after its first width: that width is on screen already
    assert p.running and _points(p) == 1 and p.status.value == "1 widths measured"
    assert p.progress_text.value == "1 / 4 widths" and p.progress.value == 1
    assert p.button.disabled and not p.stop_button.disabled
    p.button.click()  # one Run at a time: ignored
    assert compute.calls == 2
    compute.release()
    assert p.wait(TIMEOUT)
    assert _points(p) == 4 and p.progress_text.value == "4 / 4 widths"
    assert not p.button.disabled and p.stop_button.disabled and thread_errors == []


def test_stop_keeps_the_finished_widths_and_is_not_remembered():
    compute, p = _held_run(5)
    p.stop_button.click()  # the width in progress finishes, the Run ends after it
    compute.release()
    assert p.wait(TIMEOUT)
    assert _points(p) == 2 and p.status.value.startswith("<b>stopped after 2 of 5 widths</b>")
    assert p.progress.bar_style == "warning" and p.stop_button.disabled
    assert len(p.memory) == 1  # only the complete first Run
    p.button.click()  # the same values run again, to the end this time
    assert p.wait(TIMEOUT) and compute.calls == 3 and _points(p) == 5 and len(p.memory) == 2


def test_an_error_in_the_worker_is_one_line_and_the_partial_figure_stays(thread_errors):
    compute = Gated(fail_after=2)
    p = _panel(compute)
    p.controls["total"].value = 3
    p.button.click()
    assert p.wait(TIMEOUT)
    assert p.status.value == "<span style='color:#b00'>RuntimeError: integrand overflowed</span>"
    assert _points(p) == 2 and p.progress.bar_style == "danger"
    assert len(p.memory) == 1 and thread_errors == []


def test_an_error_before_any_update_is_one_line():
    def compute(total: int):
        raise ValueError(f"need at least 2 widths, got {total}; move the slider.\nmore")
        yield

    p = _panel(compute)
    assert "need at least 2 widths, got 2; move the slider." in p.status.value
    assert "\n" not in p.status.value and len(p.figure.data) == 0 and not p.running


def test_plain_functions_compute_at_once_and_repeats_come_from_memory():
    calls = []

    def compute(total: int) -> tuple[go.Figure, str]:
        calls.append(total)
        return _figure(total), f"{total} points"

    p = _panel(compute)
    p.controls["total"].value = 5
    p.button.click()  # a plain function: done when click returns
    assert not p.running and _points(p) == 5 and p.status.value == "5 points"
    assert p.progress.layout.display == "none" and p.stop_button.disabled
    p.controls["total"].value = 2
    p.button.click()
    assert calls == [2, 5] and _points(p) == 2


def test_a_repeated_run_of_a_stream_answers_from_memory():
    compute = Gated()
    p = _panel(compute, auto=True)
    p.controls["total"].value = 3
    assert p.wait(TIMEOUT)
    p.controls["total"].value = 2
    assert p.wait(TIMEOUT) and compute.calls == 2 and _points(p) == 2
    assert p.progress.layout.display == "none"  # no Run worked: nothing to follow


def test_moving_a_control_during_a_run_stops_it_and_runs_the_new_values():
    compute = Gated()
    p = _panel(compute, auto=True)
    compute.hold()
    p.controls["total"].value = 6
    assert compute.reached.wait(TIMEOUT)
    p.controls["total"].value = 3
    compute.release()
    assert p.wait(TIMEOUT)
    assert _points(p) == 3 and p.status.value == "3 widths measured"
    assert compute.calls == 3
    assert [dict(k)["total"] for k in p.memory] == ["2", "3"]  # the stopped 6 is not kept


def test_by_width_runs_growing_prefixes():
    seen = []
    updates = list(by_width((4, 8, 16), lambda w: seen.append(w) or (_figure(len(w)), "ok")))
    assert seen == [(4,), (4, 8), (4, 8, 16)]
    assert [(u.done, u.total, u.unit) for u in updates] == [
        (0, 3, "widths"), (1, 3, "widths"), (2, 3, "widths"), (3, 3, "widths")]
    assert updates[0].figure is None and "width 4" in updates[0].status  # progress only
    assert all(isinstance(u.figure, go.Figure) for u in updates[1:])


def test_an_update_without_a_figure_keeps_the_one_shown():
    def compute(total: int):
        yield Update(_figure(1), "first", 1, total)
        yield Update(None, "still working", 1, total)
        yield Update(None, "done", total, total)

    p = _panel(compute)
    assert _points(p) == 1 and p.status.value == "done"
    assert p.memory[(("total", "2"),)][1] == "done"


def test_by_width_passes_a_result_object_on():
    updates = list(by_width((4, 8), lambda w: (_figure(len(w)), "ok", w)))
    assert [u.result for u in updates] == [None, (4,), (4, 8)]


def test_by_width_with_a_measurement_counts_initializations_as_they_come():
    """Each width is measured first (its reports become updates without a figure, in the
    order reported), then drawn; ``done`` counts initializations over all widths."""
    measured = []

    def measure(width: int, report) -> None:
        for done in (4, 8, 10):
            report(done)
        measured.append(width)

    updates = list(by_width((4, 8), lambda w: (_figure(len(w)), f"{w}"), measure, 10))
    assert measured == [4, 8]
    assert [(u.done, u.total, u.unit, u.figure is None) for u in updates] == [
        (0, 20, "initializations", True),
        (4, 20, "initializations", True), (8, 20, "initializations", True),
        (10, 20, "initializations", True), (10, 20, "initializations", False),
        (14, 20, "initializations", True), (18, 20, "initializations", True),
        (20, 20, "initializations", True), (20, 20, "initializations", False)]
    assert "width 8: 4 of 10 initializations" in updates[5].status
    assert [u.result for u in updates if u.figure is not None] == [None, None]


def test_closing_by_width_ends_the_measurement_at_its_next_report(thread_errors):
    """Stop closes the stream mid-width: the measuring thread's next report raises, so it
    ends without finishing (nothing after that report runs)."""
    go_on, after = threading.Event(), []

    def measure(width: int, report) -> None:
        report(1)
        assert go_on.wait(TIMEOUT)
        report(2)  # raises: the stream was closed
        after.append(width)

    updates = by_width((4, 8), lambda w: (_figure(len(w)), "ok"), measure, 2)
    assert [next(updates).done, next(updates).done] == [0, 1]
    updates.close()
    worker = next(t for t in threading.enumerate() if t.name == "widenets-measure")
    go_on.set()
    worker.join(TIMEOUT)
    assert not worker.is_alive() and after == [] and thread_errors == []


def test_an_error_in_a_measurement_reaches_the_panel_as_one_line(thread_errors):
    def measure(width: int, report) -> None:
        report(1)
        raise FloatingPointError(f"width {width}: the integrand overflowed\ndetail")

    def compute(total: int):
        return by_width((4, 8), lambda w: (_figure(len(w)), "ok"), measure, total)

    p = _panel(compute)
    assert p.status.value == ("<span style='color:#b00'>width 4: the integrand "
                              "overflowed</span>")
    assert thread_errors == []
