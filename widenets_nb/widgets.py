"""ipywidgets panels: controls wired to a computation and a plotly FigureWidget.

A panel never computes by itself: ``compute(**values)`` (from the package) returns a
``plotly`` figure; the panel shows it, a caption, and any ``ValueError`` as a readable
message rather than a traceback.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from . import plots
from .nets import ACTIVATIONS, Network
from .prior import init_distribution


def replace_figure(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Show ``fig`` in ``widget``: the new traces are added before the old ones are dropped,
    since clearing first can leave the front end an empty figure."""
    old = len(widget.data)
    with widget.batch_update():
        widget.add_traces(list(fig.data))
        widget.data = widget.data[old:]
        widget.layout = fig.layout


class Panel(W.VBox):
    """Controls, a figure that follows them, a status line and a caption."""

    def __init__(self, controls: Mapping[str, W.ValueWidget],
                 compute: Callable[..., tuple[go.Figure, str]], caption: str,
                 auto: bool = True) -> None:
        self.controls = dict(controls)
        self.compute = compute
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
        """Recompute with the current control values and redraw."""
        self.status.value = "<i>computing...</i>"
        try:
            fig, message = self.compute(**self.values())
        except (ValueError, FloatingPointError) as err:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(err))}</span>"
            return
        replace_figure(self.figure, fig)
        self.status.value = message


def log2_slider(description: str, low: int, high: int, value: int) -> W.IntSlider:
    """A slider over exponents k (the width is 2^k)."""
    return W.IntSlider(value=value, min=low, max=high, description=description,
                       continuous_update=False, readout_format="d",
                       style={"description_width": "initial"})


def init_distribution_panel(input_dim: int = 4, max_inits: int = 4000, seed: int = 0) -> Panel:
    """Notebook 00: the histogram of f(x) over initializations vs N(0, K(x, x))."""
    x = np.linspace(0.5, 1.0, input_dim)

    def compute(log2_width: int, depth: int, activation: str, inits: int):
        net = Network(input_dim=input_dim, width=2**log2_width, depth=depth,
                      activation=activation, input_scaling=True)
        result = init_distribution(net, x, inits, seed)
        title = (f"{activation}, depth {depth}, width {2**log2_width}: "
                 f"f(x) over {inits} initializations")
        message = (f"sample variance {result.variance:.4f} ± {result.variance_stderr:.4f} "
                   f"vs infinite width {result.nngp_variance:.4f} (z = {result.z_score:+.2f}); "
                   f"excess kurtosis {result.excess_kurtosis:+.3f}")
        return plots.init_histogram(result.samples, result.nngp_variance, title), message

    controls = {
        "log2_width": log2_slider("log2 width", 1, 11, 4),
        "depth": W.IntSlider(value=2, min=1, max=5, description="depth", continuous_update=False),
        "activation": W.Dropdown(options=list(ACTIVATIONS), value="relu", description="activation"),
        "inits": W.IntSlider(value=min(1000, max_inits), min=100, max=max_inits, step=100,
                             description="inits", continuous_update=False),
    }
    caption = ("Each bar counts the value of f(x) at one fixed input over many random "
               "initializations. At infinite width f(x) is Gaussian with the NNGP variance "
               "K(x, x) (curve); at small width the histogram departs from it, most visibly "
               "in its tails (excess kurtosis = the connected 4-point function, O(1/n) by "
               "Conjecture 1).")
    return Panel(controls, compute, caption)
