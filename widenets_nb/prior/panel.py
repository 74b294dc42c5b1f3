"""Notebook 00 panel: the histogram of f(x) over initializations."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from ..nets import ACTIVATIONS, Network
from ..widgets import Panel, log2_slider
from .experiments import PriorProtocol, default_input, init_distribution
from .figures import init_histogram


def init_distribution_panel(protocol: PriorProtocol | None = None) -> Panel:
    """Notebook 00: the histogram of f(x) over initializations vs N(0, K(x, x)); the
    protocol gives D, the seed and the most initializations offered."""
    protocol = protocol or PriorProtocol.for_profile()
    x = default_input(protocol.input_dim)

    def compute(log2_width: int, depth: int, activation: str, inits: int
                ) -> tuple[go.Figure, str]:
        net = Network(input_dim=protocol.input_dim, width=2**log2_width, depth=depth,
                      activation=activation, input_scaling=True)
        result = init_distribution(net, x, inits, protocol.seed)
        title = (f"{activation}, depth {depth}, width {2**log2_width}: "
                 f"f(x) over {inits} initializations")
        return init_histogram(result, title), result.summary()

    step = min(100, protocol.inits)
    controls = {
        "log2_width": log2_slider("log2 width", 1, 11, 4),
        "depth": W.IntSlider(value=2, min=1, max=5, description="depth", continuous_update=False),
        "activation": W.Dropdown(options=list(ACTIVATIONS), value="relu", description="activation"),
        "inits": W.IntSlider(value=min(1000, protocol.inits), min=step, max=protocol.inits,
                             step=step, description="inits", continuous_update=False),
    }
    caption = ("Each bar counts the value of f(x) at one fixed input over many random "
               "initializations. At infinite width f(x) is Gaussian with the NNGP variance "
               "K(x, x) (curve); at small width the histogram departs from it, most visibly "
               "in its tails (excess kurtosis = the connected 4-point function, O(1/n) by "
               "Conjecture 1).")
    return Panel(controls, compute, caption, protocol=protocol)
