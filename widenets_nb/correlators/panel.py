"""The notebook panel of Sec. 2: type a correlator, see its graph, prediction and scaling."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as W
import plotly.graph_objects as go

from ..fits import NotFittable, fit_exponent
from ..nets import ACTIVATIONS, INITS
from ..widgets import Panel, replace_figure
from .clusters import predict
from .estimate import measure, widths_from_exponents
from .figures import cluster_graph_figure, scaling_figure
from .notation import NAMED, parse


def formula_html(spec: str) -> str:
    """The correlator rendered as LaTeX (MathJax) with its Conjecture 1 prediction."""
    c = parse(spec)
    p = predict(c)
    label = "2 s_C" if c.variance else "s_C"
    return (f"$${c.latex}$$<p>m = {p.m}, n<sub>e</sub> = {p.n_e}, n<sub>o</sub> = {p.n_o}: "
            f"predicted exponent {label} = {p.s:g}</p>")


def scaling(spec: str, activation: str, depth: int, init: str, log2_widths: tuple[int, int],
            inits: int, seed: int = 0) -> tuple[go.Figure, str]:
    """Measure ``spec`` over widths 2^a..2^b and draw |C| vs n with the fit (the panel's
    compute: the summary HTML-escaped)."""
    fig, message = scaling_at(spec, widths_from_exponents(*log2_widths), inits, seed,
                              activation=activation, depth=depth, init=init)
    return fig, html.escape(message)


def scaling_at(spec: str, widths: Sequence[int], inits: int, seed: int = 0,
               activation: str = "tanh", depth: int = 3, init: str = "gaussian"
               ) -> tuple[go.Figure, str]:
    """Measure ``spec`` at ``widths``: the |C| vs n figure with the fitted exponent, its CI
    and the Conjecture 1 slope, and a one-line summary."""
    m = measure(spec, widths, inits, seed, activation=activation, depth=depth, init=init)
    predicted = predict(spec).s
    try:
        fit = fit_exponent(m.widths, m.samples, m.statistic, seed=seed)
        message = (f"fitted exponent {fit.slope:+.3f}, 95% CI [{fit.slope_ci[0]:+.3f}, "
                   f"{fit.slope_ci[1]:+.3f}]; Conjecture 1: {predicted:+g}")
        if fit.unresolved:
            message += f"; unresolved widths (excluded): {list(fit.unresolved)}"
    except NotFittable as err:
        fit, message = None, f"not fittable: {err}"
    title = f"{m.spec}: {activation}, depth {depth}, {init} init, {inits} inits per width"
    return scaling_figure(fit, m.widths, m.values, m.stderr, predicted, title), message


def correlator_panel(max_inits: int = 1000, max_log2_width: int = 10, seed: int = 0,
                     spec: str = "table1.row5", log2_widths: tuple[int, int] = (4, 7),
                     inits: int = 200, activation: str = "tanh", depth: int = 3) -> W.VBox:
    """Notebook 01: a text box (table rows in a dropdown), the formula and cluster graph,
    network controls and a Run button measuring |C| vs n with its fitted exponent (the
    first run, with the initial controls, happens at once)."""
    rows = W.Dropdown(options=[("(type below)", "")] + [(k, v) for k, v in NAMED.items()],
                      description="table row")
    text = W.Text(value=NAMED.get(spec, spec), description="correlator",
                  layout=W.Layout(width="30em"))
    formula = W.HTMLMath()
    graph = go.FigureWidget()

    def show(_: object = None) -> None:
        try:
            formula.value = formula_html(text.value)
            fig = cluster_graph_figure(text.value)
        except ValueError as err:
            formula.value = f"<pre style='color:#b00'>{html.escape(str(err))}</pre>"
            return
        replace_figure(graph, fig)

    rows.observe(lambda change: change["new"] and setattr(text, "value", change["new"]),
                 names="value")
    text.observe(show, names="value")
    show()
    controls = {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=activation,
                                 description="activation"),
        "depth": W.IntSlider(value=depth, min=1, max=5, description="depth",
                             continuous_update=False),
        "init": W.Dropdown(options=list(INITS), value="gaussian", description="init"),
        "log2_widths": W.IntRangeSlider(value=log2_widths, min=2,
                                        max=max_log2_width, description="log2 widths",
                                        continuous_update=False,
                                        layout=W.Layout(width="36em")),
        "inits": W.IntSlider(value=min(inits, max_inits), min=20, max=max_inits, step=10,
                             description="inits", continuous_update=False),
    }

    def compute(**values: object) -> tuple[go.Figure, str]:
        return scaling(text.value, seed=seed, **values)

    caption = ("Each point is the Monte Carlo mean of the integrand over initializations "
               "(for <code>var:</code>, its variance) with its standard error; the solid "
               "line is the weighted fit of log|C| on log n (95% bootstrap CI in the legend), "
               "the dashed line has the slope of Conjecture 1. Press Run after changing the "
               "correlator or the controls.")
    panel = Panel(controls, compute, caption, auto=False)
    return W.VBox([W.HBox([rows, text]), formula, graph, panel])
