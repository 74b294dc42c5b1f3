"""Notebook panels for Sec. 4: step through the diagrams of a correlator."""

from __future__ import annotations

import html

import ipywidgets as W
import plotly.graph_objects as go

from ..widgets import Panel
from .exact import as_correlator
from .experiments import MAX_LISTED, diagram_step, listed_diagrams
from .figures import diagram_figure


def diagram_panel(spec: str = "table1.row5", depth: int = 3, bias: bool = False) -> Panel:
    """Feynman and double-line diagram of the i-th diagram of a correlator (Figs. 2-7)."""

    def compute(spec: str, depth: int, bias: bool, number: int) -> tuple[go.Figure, str]:
        step = diagram_step(spec, depth, bias, number)
        return diagram_figure(step.diagram, step.labels), html.escape(step.summary())

    controls = {
        "spec": W.Text(value=spec, description="correlator", continuous_update=False,
                       style={"description_width": "initial"}),
        "depth": W.IntSlider(value=depth, min=1, max=4, description="depth d",
                             continuous_update=False),
        "bias": W.Checkbox(value=bias, description="biases"),
        "number": W.IntSlider(value=1, min=1, max=MAX_LISTED, description="diagram",
                             continuous_update=False),
    }

    def resize(_: object = None) -> None:
        """Fit the diagram slider to the number of diagrams listed."""
        try:
            c = as_correlator(controls["spec"].value)
            diagrams, _ = listed_diagrams(c.text, controls["depth"].value,
                                          controls["bias"].value)
        except ValueError:
            return
        controls["number"].max = max(len(diagrams), 1)

    for name in ("spec", "depth", "bias"):
        controls[name].observe(resize, names="value")
    resize()
    caption = ("Left: the Feynman diagram, a vertex per tensor and one edge per layer type "
               "(U, W_1, ..., V) pairing the tensors by Isserlis' theorem; dashed edges are "
               "forced by a contracted derivative (letter). Right: the double-line graph, "
               "tensor a blown up into its hidden indices (a, 1..d) along a ray; every curve "
               "is a Kronecker delta and every colour one index loop, a factor n. The title "
               "gives the power of n, s = loops - dm/2 = chi - m/2, and the surface the "
               "diagram triangulates.")
    return Panel(controls, compute, caption)
