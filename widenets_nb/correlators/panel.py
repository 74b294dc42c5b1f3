"""The notebook panel of Sec. 2: type a correlator, see its graph, prediction and scaling."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Iterator

import ipywidgets as W
import plotly.graph_objects as go

from ..nets import ACTIVATIONS, INITS
from ..results import Scaling
from ..widgets import (
    Panel,
    Update,
    by_width,
    figure_widget,
    inits_slider,
    log2_range_slider,
    replace_figure,
)
from .clusters import predict
from .estimate import widths_from_exponents
from .experiments import (
    ScalingProtocol,
    TheoryPrediction,
    correlator_measurement,
    correlator_scaling,
    theory_prediction,
)
from .figures import cluster_graph_figure, correlator_figure
from .notation import NAMED, parse


def formula_html(spec: str) -> str:
    """The correlator rendered as LaTeX (MathJax) with its Conjecture 1 prediction."""
    c = parse(spec)
    p = predict(c)
    label = "2 s_C" if c.variance else "s_C"
    return (f"$${c.latex}$$<p>m = {p.m}, n<sub>e</sub> = {p.n_e}, n<sub>o</sub> = {p.n_o}: "
            f"predicted exponent {label} = {p.s:g}</p>")


def _protocol(spec: str, activation: str, depth: int, init: str,
              log2_widths: tuple[int, int], inits: int, seed: int) -> ScalingProtocol:
    return ScalingProtocol(spec, widths_from_exponents(*log2_widths), inits, seed, activation,
                           depth, init)


def _drawn(s: Scaling, theory: TheoryPrediction | None) -> tuple[go.Figure, str]:
    """|C| vs n with the fit and the 1/n theory where it applies, and the
    ``Scaling.summary`` (with the theory's line) HTML-escaped."""
    lines = [s.summary()] + ([theory.summary()] if theory is not None else [])
    return correlator_figure(s, theory), "<br>".join(html.escape(t) for t in lines)


def _theory(p: ScalingProtocol) -> TheoryPrediction | None:
    return theory_prediction(p.spec, p.activation, p.depth, p.init)


def scaling_updates(spec: str, activation: str, depth: int, init: str,
                    log2_widths: tuple[int, int], inits: int, seed: int = 0
                    ) -> Iterator[Update]:
    """The panel's compute: measure ``spec`` over widths 2^a..2^b one width at a time
    (each cached on disk, with an update per chunk of initializations) and, after each,
    draw |C| vs n so far with its fit and the ``Scaling.summary`` HTML-escaped, with the
    ``Scaling`` for export. The last update is ``scaling``'s answer."""
    p = _protocol(spec, activation, depth, init, log2_widths, inits, seed)
    theory = _theory(p)

    def measure_width(width: int, report: Callable[[int], None]) -> None:
        # the cache entry ``correlator_scaling`` reads next
        correlator_measurement(dataclasses.replace(p, widths=(width,)),
                               on_inits=lambda _, done: report(done))

    def run(widths: tuple[int, ...]) -> tuple[go.Figure, str, Scaling]:
        s = correlator_scaling(dataclasses.replace(p, widths=widths))
        return (*_drawn(s, theory), s)

    return by_width(p.widths, run, measure_width, p.inits)


def scaling(spec: str, activation: str, depth: int, init: str, log2_widths: tuple[int, int],
            inits: int, seed: int = 0) -> tuple[go.Figure, str]:
    """The final update of ``scaling_updates`` at once: measure ``spec`` over widths
    2^a..2^b (cached on disk) and draw |C| vs n with the fit."""
    p = _protocol(spec, activation, depth, init, log2_widths, inits, seed)
    return _drawn(correlator_scaling(p), _theory(p))


def correlator_panel(protocol: ScalingProtocol, max_inits: int = 1000,
                     max_log2_width: int = 10) -> Panel:
    """Notebook 01: a correlator text box (table rows in a dropdown), its formula and
    cluster graph, network controls and a Run button measuring |C| vs n with its fitted
    exponent (the first run, with ``protocol``'s settings, happens at once)."""
    rows = W.Dropdown(options=[("(type below)", "")] + [(k, v) for k, v in NAMED.items()],
                      description="table row")
    text = W.Text(value=NAMED.get(protocol.spec, protocol.spec), description="correlator",
                  layout=W.Layout(width="30em"))
    formula = W.HTMLMath()
    graph = figure_widget(filename="cluster_graph")

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
        "spec": text,
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=protocol.activation,
                                 description="activation"),
        "depth": W.IntSlider(value=protocol.depth, min=1, max=5, description="depth",
                             continuous_update=False),
        "init": W.Dropdown(options=list(INITS), value=protocol.init, description="init"),
        "log2_widths": log2_range_slider(2, max_log2_width, protocol.log2_widths),
        "inits": inits_slider(protocol.inits, 20, max_inits, 10),
    }

    def compute(**values: object) -> Iterator[Update]:
        return scaling_updates(seed=protocol.seed, **values)

    caption = ("Each point is the Monte Carlo mean of the integrand over initializations "
               "(for <code>var:</code>, its variance) with its standard error; the solid "
               "line is the weighted fit of log|C| on log n (95% CI in the legend; the "
               "status names its method), the dashed line has the slope of Conjecture 1. "
               "Press Run after changing the "
               "correlator or the controls: each width is drawn as soon as it is measured, "
               "Stop keeps the widths done, and settings measured before answer at once.")
    panel = Panel(controls, compute, caption, auto=False, protocol=protocol)
    panel.children = (rows, formula, graph, *panel.children)
    return panel
