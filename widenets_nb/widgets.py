"""ipywidgets panels: controls wired to a computation and a plotly FigureWidget.

A panel never computes by itself: ``compute(**values)`` (from the package) returns a
``plotly`` figure and a status line; the panel shows them, a caption, and any error as
one readable line rather than a traceback. Every panel answers a Run whose control values
it has computed before from memory at once; the sections' experiments also cache their
results on disk (``cache.cached``), so a restarted kernel answers from there.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import ipywidgets as W
import plotly.graph_objects as go


def replace_figure(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Show ``fig`` in ``widget``: the new traces are added before the old ones are dropped,
    since clearing first can leave the front end an empty figure."""
    old = len(widget.data)
    with widget.batch_update():
        widget.add_traces(list(fig.data))
        widget.data = widget.data[old:]
        widget.layout = fig.layout


class Panel(W.VBox):
    """Controls, a figure that follows them, a status line and a caption.

    ``compute`` must depend on the control values alone (put any other input, such as a
    text box, among the controls): results are remembered by those values (the last
    ``MEMORY`` of them).
    """

    MEMORY = 32

    def __init__(self, controls: Mapping[str, W.ValueWidget],
                 compute: Callable[..., tuple[go.Figure, str]], caption: str,
                 auto: bool = True) -> None:
        self.controls = dict(controls)
        self.compute = compute
        self.memory: dict[tuple, tuple[go.Figure, str]] = {}
        self.figure = go.FigureWidget()
        self.status = W.HTML()
        self.button = W.Button(description="Run", button_style="primary", icon="play")
        self.button.on_click(lambda _: self.refresh())
        if auto:
            for widget in self.controls.values():
                widget.observe(lambda _: self.refresh(), names="value")
        caption_html = W.HTML(f"<p style='max-width:60em; line-height:1.4'>{caption}</p>")
        box = W.HBox(list(self.controls.values()) + [self.button],
                     layout=W.Layout(flex_flow="row wrap"))
        super().__init__([box, self.status, self.figure, caption_html])
        self.refresh()

    def values(self) -> dict[str, object]:
        return {name: widget.value for name, widget in self.controls.items()}

    def refresh(self) -> None:
        """Show the result for the current control values: remembered, or computed now."""
        values = self.values()
        key = tuple(sorted((name, repr(value)) for name, value in values.items()))
        if key not in self.memory:
            self.status.value = "<i>computing...</i>"
            try:
                self.memory[key] = self.compute(**values)
            except Exception as err:  # noqa: BLE001 -- shown as one line, never a traceback
                line = html.escape(error_line(err))
                self.status.value = f"<span style='color:#b00'>{line}</span>"
                return
            while len(self.memory) > self.MEMORY:
                self.memory.pop(next(iter(self.memory)))
        fig, message = self.memory[key]
        replace_figure(self.figure, fig)
        self.status.value = message


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
