"""ipywidgets panels: controls wired to a computation and a plotly FigureWidget.

A panel never computes by itself: ``compute(**values)`` (from the package) either returns
a ``plotly`` figure and a status line, or is a generator of ``Update``s, each the figure
so far (e.g. the widths measured until now) with how many of how many units are done. The
panel shows them, a caption, and any error as one readable line rather than a traceback.

A generator's Run started from the panel (Run, or a control) works in a background thread,
so the kernel stays free: a progress bar follows it, each partial figure is drawn as soon
as it arrives, and Stop ends it keeping what was finished. The first Run (when the panel is
built) works in the calling thread, so a notebook cell ends with its figure drawn.

Every panel answers a Run whose control values it has completed before from memory at
once; the sections' experiments also cache their results on disk (``cache.cached``), so a
restarted kernel answers from there.

Every panel exports what it shows (``Panel.export``, the Export button): the result with
its controls, protocol, seed and package version as JSON and CSV, and the figure as SVG.
A compute hands its result object over as a third element, ``(figure, status, result)``,
or as ``Update.result`` (``by_width`` passes a third element of ``run`` on).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import functools
import html
import itertools
import json
import math
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import ipywidgets as W
import plotly.graph_objects as go

from . import config, plots, results
from .cache import atomic_write
from .results import Report, Scaling

#: What a panel can export besides its figure: a ``Report``, a ``Scaling`` or several.
Exportable = Report | Scaling | Sequence[Scaling] | None


@dataclasses.dataclass(frozen=True)
class Update:
    """One step of a Run: the figure so far (None keeps the one on screen), its status
    line, and ``done`` of ``total`` ``unit`` finished; ``result``, the result object drawn
    (exported with the figure; None keeps the previous one). The last update is the
    result."""

    figure: go.Figure | None
    status: str
    done: int
    total: int
    unit: str = "widths"
    result: Exportable = None


#: What a panel's compute gives: the final figure and status (and optionally the result
#: object drawn), or a stream of ``Update``s.
Result = tuple[go.Figure, str] | tuple[go.Figure, str, Exportable] | Iterator[Update]


class Shown(NamedTuple):
    """A result a panel shows: figure, status line, result object (None where the
    figure's data is all), seconds its computation took, the control values, and whether
    its Run finished (False while it works, or when stopped or failed)."""

    figure: go.Figure
    status: str
    result: Exportable
    seconds: float
    values: Mapping[str, Any]
    complete: bool = True


def by_width(widths: tuple[int, ...],
             run: Callable[[tuple[int, ...]], tuple[go.Figure, str]
                           | tuple[go.Figure, str, Exportable]],
             measure: Callable[[int, Callable[[int], None]], object] | None = None,
             inits: int = 0) -> Iterator[Update]:
    """A Run over widths drawn as it goes: ``run`` (figure and status of a measurement at
    the given widths, optionally with its result object) on the first 1, 2, ... of
    ``widths``, one update each after a first that only starts the progress bar. With every
    width cached on disk, each step measures one new width and reads the others.

    With ``measure``, progress counts initializations: ``measure(width, report)`` first
    measures (and caches) one width, calling ``report(done)`` after each chunk of its
    ``inits`` initializations; it works in a thread of its own, and each report is an
    update (no figure) as soon as it arrives. Closing the stream (Stop) makes the next
    report raise, which ends that measurement."""
    total = len(widths) * inits if measure is not None else len(widths)
    unit = "initializations" if measure is not None else "widths"
    yield Update(None, f"<i>computing width {widths[0]}...</i>", 0, total, unit)
    for k, width in enumerate(widths, 1):
        if measure is not None:
            for done in _reports(functools.partial(measure, width)):
                yield Update(None, f"<i>computing width {width}: {done} of {inits} "
                             "initializations...</i>", (k - 1) * inits + done, total, unit)
        figure, status, *result = run(widths[:k])
        yield Update(figure, status, k * inits if measure is not None else k, total, unit,
                     result=result[0] if result else None)


class _Stopped(Exception):
    """Raised in a measurement's thread by its report once its stream was closed."""


def _reports(task: Callable[[Callable[[int], None]], object]) -> Iterator[int]:
    """Run ``task(report)`` in a thread, yielding each ``report(done)`` as it arrives;
    the task's exception is raised here. Closing the iterator makes the task's next
    report raise ``_Stopped`` (its thread then ends without waiting for it)."""
    found: queue.Queue = queue.Queue()
    closed = threading.Event()
    end = object()

    def report(done: int) -> None:
        if closed.is_set():
            raise _Stopped
        found.put(done)

    def work() -> None:
        try:
            task(report)
            found.put(end)
        except BaseException as err:  # noqa: BLE001 -- handed to the reading thread
            found.put(err)

    threading.Thread(target=work, daemon=True, name="widenets-measure").start()
    try:
        while (item := found.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        closed.set()


def figure_widget(fig: go.Figure | None = None, filename: str = "widenets") -> go.FigureWidget:
    """A FigureWidget of ``fig`` whose toolbar downloads an SVG of ``plots.IMAGE_SIZE``
    named ``filename``.svg (``plots.CONFIG``)."""
    widget = go.FigureWidget(fig)
    options = {**plots.CONFIG["toImageButtonOptions"], "filename": filename}
    widget._config = {**widget._config, **plots.CONFIG, "toImageButtonOptions": options}
    return widget


def replace_figure(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Show ``fig`` in ``widget``: the new traces are added before the old ones are dropped,
    since clearing first can leave the front end an empty figure."""
    old = len(widget.data)
    with widget.batch_update():
        widget.add_traces(list(fig.data))
        widget.data = widget.data[old:]
        widget.layout = fig.layout
    # Plotly sends the changes above as one-off messages; a view created later (a Voila page
    # connecting after the notebook ran, a reloaded page) starts from the synced state, so
    # that state is brought up to date too.
    widget._widget_data = copy.deepcopy(widget._data)
    widget._widget_layout = copy.deepcopy(widget._layout)


class Panel(W.VBox):
    """Controls, a figure that follows them, a status line, a progress bar, an export
    control and a caption.

    ``compute`` must depend on the control values alone (put any other input, such as a
    text box, among the controls): complete results are remembered by those values (the
    last ``MEMORY`` of them); a stopped or failed Run is not.

    One Run at a time: Run is disabled while one works, and a control moved meanwhile
    (``auto``) stops it and runs the new values next. ``wait()`` blocks until the panel
    is idle (for scripts and tests).

    Export (the button, or ``export()``) saves the result on screen in a new folder
    ``<export folder>/<name>-<UTC date-time>/`` and says where in one line:

    - ``<name>.json``: ``report()``, a ``results.Report`` (``Report.from_json`` reads it
      back) whose protocol holds the panel's name, the control values of the result, the
      seed, ``complete`` (False for a stopped or still working Run) and the fields of
      ``protocol``; its provenance the package version, date, profile, platform and the
      seconds the result took; its scalings those of the result object; its data the
      status line.
    - ``<name>-scalings.csv``: the scalings, a row per width (``results.to_csv``), where the
      result object has any.
    - ``<name>-figure.csv``: the figure's traces, a row per point (``plots.figure_csv``).
    - ``<name>.plotly.json`` and ``<name>.svg``: the figure (``plots.save_figure``; a
      self-contained ``<name>.html`` instead of the SVG without kaleido or Chromium).

    The result object is what ``compute`` hands over (``Exportable``: a ``Report``, a
    ``Scaling`` or a sequence of them) as the third element of its tuple or as
    ``Update.result``; without one the figure's data is the result. ``name`` defaults to
    the function that built ``compute`` (``drift_panel`` -> ``drift``); ``protocol`` (a
    dataclass or a mapping, usually the section's protocol with a ``seed`` field) is what
    ``compute`` reads besides the controls.
    """

    MEMORY = 32
    #: Seconds between two figures drawn in a row.
    DRAW_GAP = 0.1
    #: Where exports go by default, relative to the working directory.
    EXPORT_DIR = "widenets_exports"

    def __init__(self, controls: Mapping[str, W.ValueWidget], compute: Callable[..., Result],
                 caption: str, auto: bool = True, name: str | None = None,
                 protocol: Any = None) -> None:
        self.controls = dict(controls)
        self.compute = compute
        self.name = _clean_name(name) if name else panel_name(compute)
        self.protocol = protocol
        self.memory: dict[tuple, Shown] = {}
        self.current: Shown | None = None
        self.figure = figure_widget(filename=self.name)
        self.status = W.HTML()
        self.button = W.Button(description="Run", button_style="primary", icon="play")
        self.button.on_click(lambda _: self.run())
        self.stop_button = W.Button(description="Stop", icon="stop", disabled=True)
        self.stop_button.on_click(lambda _: self.stop())
        hidden = W.Layout(display="none")
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=hidden)
        self.progress_text = W.Label(layout=W.Layout(display="none"))
        self._lock = threading.Lock()
        self._busy = False
        self._pending = False
        self._drawn = -math.inf
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        if auto:
            for widget in self.controls.values():
                widget.observe(lambda _: self.run(restart=True), names="value")
        caption_html = W.HTML(f"<p style='max-width:60em; line-height:1.4'>{caption}</p>")
        box = W.HBox([*self.controls.values(), self.button, self.stop_button, self.progress,
                      self.progress_text], layout=W.Layout(flex_flow="row wrap"))
        self.export_dir = W.Text(value=self.EXPORT_DIR, description="export to",
                                 layout=W.Layout(width="24em"))
        self.export_button = W.Button(description="Export", icon="download",
                                      tooltip="save the result (JSON, CSV) and the figure "
                                      "(SVG) in a new folder")
        self.export_button.on_click(lambda _: self._export_clicked())
        self.export_status = W.HTML()
        export = W.HBox([self.export_dir, self.export_button, self.export_status],
                        layout=W.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__([box, self.status, self.figure, export, caption_html])
        self.refresh()

    def values(self) -> dict[str, object]:
        return {name: widget.value for name, widget in self.controls.items()}

    @property
    def running(self) -> bool:
        """Whether a Run is working."""
        return not self._idle.is_set()

    def refresh(self) -> None:
        """Show the result for the current control values, computed in this thread."""
        self._start(background=False, restart=False)

    def run(self, restart: bool = False) -> None:
        """Run for the current control values: a stream of updates works in a background
        thread. While a Run works this is ignored, or with ``restart`` (a control moved)
        the working Run is stopped and the new values run next."""
        self._start(background=True, restart=restart)

    def stop(self) -> None:
        """End the working Run after its current unit; what was finished stays shown."""
        if self.running:
            self._stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no Run works (or ``timeout`` seconds); whether the panel is idle."""
        return self._idle.wait(timeout)

    def report(self, shown: Shown | None = None) -> Report:
        """The result on screen (or ``shown``) as a ``results.Report`` (see the class
        docstring)."""
        shown = shown or self.current
        if shown is None:
            raise ValueError("nothing to export yet: press Run first.")
        base, found, data = self.protocol, shown.result, {}
        if dataclasses.is_dataclass(base) and not isinstance(base, type):
            base = dataclasses.asdict(base)
        if isinstance(found, Report):
            scalings, data, base = found.scalings, dict(found.data), found.protocol
        elif isinstance(found, Scaling):
            scalings = (found,)
        else:
            scalings = tuple(found) if isinstance(found, Sequence) else found or ()
        if not (isinstance(scalings, tuple) and all(isinstance(s, Scaling) for s in scalings)):
            raise TypeError(f"{self.name}: a panel's result object must be a Report, a "
                            f"Scaling or a sequence of Scalings, not {type(found).__name__}.")
        seed = base.get("seed") if isinstance(base, Mapping) else None
        values = dict(shown.values)
        command = f"{self.name} panel: " + ", ".join(f"{k}={v!r}" for k, v in values.items())
        return Report(
            target=self.name,
            protocol={"panel": self.name, "controls": values, "seed": seed,
                      "complete": shown.complete, "protocol": base},
            scalings=scalings, data={**data, "status": _plain(shown.status)},
            provenance=results.Provenance.now(config.profile(), shown.seconds, command))

    def export(self, directory: str | Path | None = None) -> Path:
        """Save the result on screen in a new folder under ``directory`` (default: the
        export box, relative to the working directory), say where in ``export_status``,
        and return the folder."""
        shown = self.current
        report = self.report(shown)
        parent = Path(directory or self.export_dir.value.strip() or self.EXPORT_DIR)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        folder = parent / f"{self.name}-{stamp}"
        for k in itertools.count(2):  # a second export within the same second gets -2, ...
            try:
                folder.mkdir(parents=True)
                break
            except FileExistsError:
                folder = parent / f"{self.name}-{stamp}-{k}"
        stem = folder / self.name
        written = [atomic_write(stem.with_suffix(".json"), lambda fh: fh.write(
            json.dumps(report.to_json(), indent=1)), binary=False)]
        if report.scalings:
            written.append(results.save_csv(report, folder / f"{self.name}-scalings.csv"))
        table = plots.figure_csv(shown.figure)
        written.append(atomic_write(folder / f"{self.name}-figure.csv",
                                    lambda fh: fh.write(table), binary=False))
        images, note = plots.save_figure(shown.figure, stem)
        written.extend(images)
        partial = "" if report.protocol["complete"] else " (partial: the Run did not finish)"
        line = (f"saved {', '.join(p.name for p in written)}{partial} in "
                f"{folder.resolve()}" + (f"; {note}" if note else ""))
        self.export_status.value = html.escape(line)
        return folder

    def _export_clicked(self) -> None:
        self.export_status.value = "<i>exporting...</i>"
        try:
            self.export()
        except Exception as err:  # noqa: BLE001 -- shown as one line, never a traceback
            line = html.escape(error_line(err))
            self.export_status.value = f"<span style='color:#b00'>{line}</span>"

    def _start(self, background: bool, restart: bool) -> None:
        with self._lock:
            if self._busy:
                if restart:
                    self._pending = True
                    self._stopping.set()
                return
            self._busy = True
            self._idle.clear()
        self.button.disabled = True
        streaming = False
        try:
            values = self.values()
            key = tuple(sorted((name, repr(value)) for name, value in values.items()))
            if key in self.memory:
                self._show_progress(None)
                self._show(self.memory[key], fresh=not background)
                return
            self.status.value = "<i>computing...</i>"
            start = time.perf_counter()
            result = self.compute(**values)
            if isinstance(result, tuple):
                if len(result) not in (2, 3):
                    raise TypeError(f"{self.name}: compute gave {len(result)} values; it "
                                    "must give (figure, status) or (figure, status, result).")
                shown = Shown(result[0], result[1], result[2] if len(result) == 3 else None,
                              time.perf_counter() - start, values)
                self._remember(key, shown)
                self._show_progress(None)
                self._show(shown, fresh=not background)
                return
            self._show_progress(None)
            streaming = True
        except Exception as err:  # noqa: BLE001 -- shown as one line, never a traceback
            self._fail(err)
            return
        finally:
            if not streaming:
                self._finish()
        if background:
            self.stop_button.disabled = False
            threading.Thread(target=self._stream, args=(result, key, values, start, True),
                             daemon=True, name="widenets-panel").start()
        else:
            self._stream(result, key, values, start, False)

    def _stream(self, updates: Iterator[Update], key: tuple, values: dict[str, Any],
                start: float, background: bool) -> None:
        """Draw the updates; remember the last when the stream ends unstopped. In the
        calling thread (the panel is not on screen yet) only the last figure is drawn:
        a front end can lose traces replaced many times before it shows them."""
        last = figure = shown = found = None
        stopped = False
        try:
            for update in updates:
                last = update
                if update.figure is not None:
                    figure = update.figure
                if update.result is not None:
                    found = update.result
                if figure is not None:
                    self.current = Shown(figure, update.status, found,
                                         time.perf_counter() - start, values, complete=False)
                if background and figure is not shown:
                    shown = self._draw(figure)
                self.status.value = update.status
                self._show_progress(update)
                if self._stopping.is_set() and update.done < update.total:
                    updates.close()
                    stopped = True
                    break
            if last is None or figure is None:
                raise ValueError("the computation gave no figure.")
            if stopped:
                self.status.value = (f"<b>stopped after {last.done} of {last.total} "
                                     f"{last.unit}</b>; {last.status}")
                self.progress.bar_style = "warning"
            else:
                self.current = self.current._replace(complete=True)
                self._remember(key, self.current)
                self.progress.bar_style = "success"
        except Exception as err:  # noqa: BLE001 -- shown as one line, never a traceback
            self._fail(err)
            self.progress.bar_style = "danger"
        finally:
            if figure is not None and figure is not shown:
                self._draw(figure, fresh=not background)
            self._finish()

    def _draw(self, fig: go.Figure, fresh: bool = False) -> go.Figure:
        """Show ``fig``, at least ``DRAW_GAP`` seconds after the previous figure; ``fresh``
        (a Run in the calling thread, as when the panel is built) puts it in a new
        FigureWidget, which a front end that has not shown the panel yet draws whole."""
        time.sleep(max(0.0, self._drawn + self.DRAW_GAP - time.monotonic()))
        if fresh:
            old, self.figure = self.figure, figure_widget(fig, self.name)
            self.children = tuple(self.figure if c is old else c for c in self.children)
            old.close()
        else:
            replace_figure(self.figure, fig)
        self._drawn = time.monotonic()
        return fig

    def _finish(self) -> None:
        with self._lock:
            self._busy = False
            pending, self._pending = self._pending, False
            self._stopping.clear()
        self.stop_button.disabled = True
        self.button.disabled = False
        if pending:
            self.run()
        else:
            with self._lock:
                if not self._busy:
                    self._idle.set()

    def _remember(self, key: tuple, shown: Shown) -> None:
        self.memory[key] = shown
        while len(self.memory) > self.MEMORY:
            self.memory.pop(next(iter(self.memory)))

    def _show(self, shown: Shown, fresh: bool) -> None:
        self._draw(shown.figure, fresh)
        self.status.value = shown.status
        self.current = shown

    def _show_progress(self, update: Update | None) -> None:
        """The progress bar and its "k / N unit" text at ``update`` (hidden for None)."""
        display = "none" if update is None else None
        self.progress.layout.display = self.progress_text.layout.display = display
        if update is not None:
            self.progress.max = max(update.total, 1)
            self.progress.value = min(update.done, update.total)
            self.progress.bar_style = "info"
            self.progress_text.value = f"{update.done} / {update.total} {update.unit}"

    def _fail(self, err: Exception) -> None:
        line = html.escape(error_line(err))
        self.status.value = f"<span style='color:#b00'>{line}</span>"


def error_line(err: BaseException) -> str:
    """One line for a panel: the message's first line (the exception's name when it has
    none); errors from deep inside a library say which kind they are."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, (ValueError, FloatingPointError)) and first:
        return first
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def panel_name(compute: Callable[..., Result]) -> str:
    """A panel's default name: the function that defined ``compute`` without ``_panel``
    (``drift_panel.<locals>.compute`` -> ``drift``), else ``compute``'s own name."""
    qualname = getattr(compute, "__qualname__", type(compute).__name__)
    enclosing = qualname.rsplit(".<locals>.", 1)[0].split(".")[-1]
    return _clean_name(enclosing.removesuffix("_panel"))


def _clean_name(name: str) -> str:
    """``name`` as a file name: letters, digits, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "", name).lower() or "panel"


def _plain(status: str) -> str:
    """A status line's text without its HTML."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "; ", status)))


def log2_slider(description: str, low: int, high: int, value: int) -> W.IntSlider:
    """A slider over exponents k (the width is 2^k)."""
    return W.IntSlider(value=value, min=low, max=high, description=description,
                       continuous_update=False, readout_format="d",
                       style={"description_width": "initial"})


def log2_range_slider(low: int, high: int, value: tuple[int, int],
                      description: str = "log2 widths") -> W.IntRangeSlider:
    """A range slider over exponents k (the widths 2^a..2^b of a sweep)."""
    return W.IntRangeSlider(value=value, min=low, max=high, description=description,
                            continuous_update=False, layout=W.Layout(width="36em"))


def inits_slider(value: int, low: int, high: int, step: int) -> W.IntSlider:
    """Initializations per width, ``value`` capped at ``high``."""
    return W.IntSlider(value=min(value, high), min=low, max=high, step=step,
                       description="inits", continuous_update=False)
