"""Notebook 00 panel: the histogram of f(x) over initializations."""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from ..nets import ACTIVATIONS, Network
from ..widgets import Panel, log2_slider
from .experiments import init_distribution
from .figures import init_histogram


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
        return init_histogram(result.samples, result.nngp_variance, title), message

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
