"""Notebook 06's panels: a statistic's 1/n prediction beside Monte Carlo, and the
depth-to-width ratio of ReLU networks."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator

import ipywidgets as W
import plotly.graph_objects as go

from ..correlators.estimate import widths_from_exponents
from ..nets import ACTIVATIONS
from ..widgets import Panel, Update, by_width, inits_slider, log2_range_slider, log2_slider
from .experiments import (
    CoefficientProtocol,
    DepthWidthProtocol,
    coefficient_comparison,
    depth_to_width,
    depths_for,
    registry,
)
from .figures import comparison_figure, depth_width_figure


def comparison_updates(statistic: str, activation: str, depth: int, bias: bool,
                       coincide: bool, log2_widths: tuple[int, int], inits: int,
                       seed: int = 0) -> Iterator[Update]:
    """The first panel's compute: the prediction and the Monte Carlo estimate at widths
    2^a..2^b, one width at a time (each cached on disk), drawn after each with the
    coefficient fitted so far (``experiments.coefficient_comparison``)."""
    p = CoefficientProtocol(statistic, activation, depth, bias,
                            widths_from_exponents(*log2_widths), inits, seed, coincide)

    def run(widths: tuple[int, ...]) -> tuple[go.Figure, str]:
        c = coefficient_comparison(dataclasses.replace(p, widths=widths))
        return comparison_figure(c), html.escape(c.summary())

    return by_width(p.widths, run)


def coefficient_panel(protocol: CoefficientProtocol, max_inits: int = 20000,
                      max_log2_width: int = 8) -> Panel:
    """Statistic, activation, depth, biases, inputs, widths and networks: the measured
    E_MC(n) beside E_inf and E_inf + c_1/n, and n (E_MC - E_inf) beside the predicted c_1
    (the first Run, with ``protocol``'s settings, happens at once)."""
    low, high = (int(w).bit_length() - 1 for w in (protocol.widths[0], protocol.widths[-1]))
    controls = {
        "statistic": W.Dropdown(options=list(registry()), value=protocol.statistic,
                                description="statistic"),
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=protocol.activation,
                                 description="activation"),
        "depth": W.IntSlider(value=protocol.depth, min=1, max=5, description="depth",
                             continuous_update=False),
        "bias": W.Checkbox(value=protocol.bias, description="biases"),
        "coincide": W.Checkbox(value=protocol.coincide, description="all inputs x_1"),
        "log2_widths": log2_range_slider(2, max_log2_width, (low, high)),
        "inits": inits_slider(protocol.inits, 100, max_inits, 100),
    }

    def compute(**values: object) -> Iterator[Update]:
        return comparison_updates(seed=protocol.seed, **values)

    caption = ("Left: the Monte Carlo mean of the correlator at each width (one standard "
               "error), the infinite-width value (dotted) and the first-order prediction "
               "E_inf + c_1/n of the layer recursions (red). Right: the same points as "
               "n (E_MC - E_inf), whose n → ∞ limit is the 1/n coefficient; the red line is "
               "the predicted c_1, the dashed curve the weighted fit c_1 + c_2/n (the 1/n² "
               "curvature fitted, not assumed away) whose intercept is the measured c_1. "
               "z in the title is their difference in standard errors. A case the recursions "
               "do not cover (ReLU beyond two inputs, ReLU's dNTK) says so in one line. "
               "Press Run after changing a control; each width is drawn as it is measured.")
    return Panel(controls, compute, caption, auto=False, protocol=protocol)


def depth_width_updates(log2_width: int, beta_min: float, inits: int, seed: int = 0
                        ) -> Iterator[Update]:
    """The second panel's compute: R = E[Theta^2]/E[Theta]^2 of ReLU networks of width
    2^k at depths d = beta n for beta geometric in [beta_min, 1], one depth at a time."""
    width = 2**log2_width
    p = DepthWidthProtocol(width, depths_for(width, beta_min, 1.0), inits, seed)

    def run(depths: tuple[int, ...]) -> tuple[go.Figure, str]:
        r = depth_to_width(dataclasses.replace(p, depths=depths))
        return depth_width_figure(r), html.escape(r.summary())

    return (dataclasses.replace(u, unit="depths") for u in by_width(p.depths, run))


def depth_width_panel(protocol: DepthWidthProtocol, max_inits: int = 5000,
                      max_log2_width: int = 8) -> Panel:
    """Width, smallest beta and networks per depth: R against beta = d/n with Hanin &
    Nica's exp(5 beta) and the first-order line (the first Run happens at once, at the
    depths ``depths_for(width)`` of ``protocol.for_profile``)."""
    log2_width = int(protocol.width).bit_length() - 1
    if 2**log2_width != protocol.width:
        raise ValueError(f"the panel's width is a power of 2; got {protocol.width}.")
    controls = {
        "log2_width": log2_slider("log2 width", 3, max_log2_width, log2_width),
        "beta_min": W.FloatLogSlider(value=0.01, base=10, min=-2,
                                     max=-0.5, step=0.25, description="smallest β",
                                     continuous_update=False),
        "inits": inits_slider(protocol.inits, 100, max_inits, 100),
    }

    def compute(**values: object) -> Iterator[Update]:
        return depth_width_updates(seed=protocol.seed, **values)

    caption = ("E[Θ(x,x)²]/E[Θ(x,x)]² of ReLU networks (no biases) at one input, against "
               "β = depth/width, with one standard error (delta method; the ratio is heavy-"
               "tailed at large β, so its error bars there are rough). Red: Hanin & Nica's "
               "exp(5β), a statement up to constant factors. Green dashed: the first-order "
               "line 1 + cβ with c fitted to the points with β ≤ 0.1, as labelled; the grey "
               "line marks the first β where it is more than 3 standard errors off.")
    return Panel(controls, compute, caption, auto=False, protocol=protocol)
