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
"""

from __future__ import annotations

import copy
import dataclasses
import html
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping

import ipywidgets as W
import plotly.graph_objects as go


@dataclasses.dataclass(frozen=True)
class Update:
    """One step of a Run: the figure so far (None keeps the one on screen), its status
    line, and ``done`` of ``total`` ``unit`` finished. The last update is the result."""

    figure: go.Figure | None
    status: str
    done: int
    total: int
    unit: str = "widths"


#: What a panel's compute gives: the final figure and status, or a stream of ``Update``s.
Result = tuple[go.Figure, str] | Iterator[Update]


def by_width(widths: tuple[int, ...], run: Callable[[tuple[int, ...]], tuple[go.Figure, str]]
             ) -> Iterator[Update]:
    """A Run over widths drawn as it goes: ``run`` (figure and status of a measurement at
    the given widths) on the first 1, 2, ... of ``widths``, one update each after a first
    that only starts the progress bar. With every width cached on disk, each step measures
    one new width and reads the others."""
    yield Update(None, f"<i>computing width {widths[0]}...</i>", 0, len(widths))
    for k in range(1, len(widths) + 1):
        yield Update(*run(widths[:k]), k, len(widths))


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
    """Controls, a figure that follows them, a status line, a progress bar and a caption.

    ``compute`` must depend on the control values alone (put any other input, such as a
    text box, among the controls): complete results are remembered by those values (the
    last ``MEMORY`` of them); a stopped or failed Run is not.

    One Run at a time: Run is disabled while one works, and a control moved meanwhile
    (``auto``) stops it and runs the new values next. ``wait()`` blocks until the panel
    is idle (for scripts and tests).
    """

    MEMORY = 32
    #: Seconds between two figures drawn in a row.
    DRAW_GAP = 0.1

    def __init__(self, controls: Mapping[str, W.ValueWidget], compute: Callable[..., Result],
                 caption: str, auto: bool = True) -> None:
        self.controls = dict(controls)
        self.compute = compute
        self.memory: dict[tuple, tuple[go.Figure, str]] = {}
        self.figure = go.FigureWidget()
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
        super().__init__([box, self.status, self.figure, caption_html])
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
                self._show(*self.memory[key], fresh=not background)
                return
            self.status.value = "<i>computing...</i>"
            result = self.compute(**values)
            if isinstance(result, tuple):
                self._remember(key, result)
                self._show_progress(None)
                self._show(*result, fresh=not background)
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
            threading.Thread(target=self._stream, args=(result, key, True), daemon=True,
                             name="widenets-panel").start()
        else:
            self._stream(result, key, False)

    def _stream(self, updates: Iterator[Update], key: tuple, background: bool) -> None:
        """Draw the updates; remember the last when the stream ends unstopped. In the
        calling thread (the panel is not on screen yet) only the last figure is drawn:
        a front end can lose traces replaced many times before it shows them."""
        last = figure = shown = None
        stopped = False
        try:
            for update in updates:
                last = update
                if update.figure is not None:
                    figure = update.figure
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
                self._remember(key, (figure, last.status))
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
            old, self.figure = self.figure, go.FigureWidget(fig)
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

    def _remember(self, key: tuple, result: tuple[go.Figure, str]) -> None:
        self.memory[key] = result
        while len(self.memory) > self.MEMORY:
            self.memory.pop(next(iter(self.memory)))

    def _show(self, fig: go.Figure, message: str, fresh: bool) -> None:
        self._draw(fig, fresh)
        self.status.value = message

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


def log2_slider(description: str, low: int, high: int, value: int) -> W.IntSlider:
    """A slider over exponents k (the width is 2^k)."""
    return W.IntSlider(value=value, min=low, max=high, description=description,
                       continuous_update=False, readout_format="d",
                       style={"description_width": "initial"})
