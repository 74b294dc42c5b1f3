"""Notebook panels for Sec. 4: step through the diagrams of a correlator."""

from __future__ import annotations

import functools
import html

import ipywidgets as W

from ..widgets import Panel
from .exact import as_correlator, exact_correlator
from .feynman import Diagram, leading_diagrams
from .figures import diagram_figure

MAX_LISTED = 400


@functools.lru_cache(maxsize=32)
def _listed(spec: str, depth: int, bias: bool) -> tuple[tuple[Diagram, ...], bool]:
    diagrams, is_sorted = leading_diagrams(spec, depth, bias, limit=MAX_LISTED)
    return tuple(diagrams), is_sorted


def polynomial_text(coefficients: dict[int, object], digits: int = 5) -> str:
    """E[C](n) as readable text: ``3 + 12/n + 12/n^2``."""
    if not coefficients:
        return "0"
    terms = []
    for p in sorted(coefficients, reverse=True):
        value = float(coefficients[p])
        power = "" if p == 0 else ("/n" if p == -1 else f"/n^{-p}")
        terms.append(f"{value:+.{digits}g}{power}")
    return " ".join(terms).lstrip("+")


def diagram_panel(spec: str = "table1.row5", depth: int = 3, bias: bool = False
                  ) -> Panel:
    """Feynman and double-line diagram of the i-th diagram of a correlator (Figs. 2-7)."""

    def compute(spec: str, depth: int, bias: bool, number: int):
        index = number - 1
        c = as_correlator(spec)
        diagrams, is_sorted = _listed(c.text, depth, bias)
        if not diagrams:
            raise ValueError(f"{c.text} has no Feynman diagram at depth {depth}: it "
                             "vanishes identically for a deep linear network.")
        exact = exact_correlator(c, depth, bias=bias)
        if index >= len(diagrams):
            raise ValueError(f"only {len(diagrams)} diagrams are listed; move the slider "
                             "down.")
        g = diagrams[index]
        labels = [f.text for f in c.factors]
        counts = ", ".join(f"{v} at n^{k}" for k, v in exact.diagram_counts.items())
        order = "highest power first" if is_sorted else "in enumeration order"
        message = (f"diagram {index + 1} of {exact.n_diagrams} ({order}); diagrams by power: "
                   f"{counts}. Tight exponent {exact.tight_exponent}, Conjecture 1 "
                   f"{exact.conjecture_exponent:g}. Lemma 2: s = chi - m/2 = {g.exponent} "
                   f"<= c - m/2 = {g.n_components - c.m / 2:g}.")
        return diagram_figure(g, labels), html.escape(message)

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
            count = len(_listed(c.text, controls["depth"].value, controls["bias"].value)[0])
        except ValueError:
            return
        controls["number"].max = max(count, 1)

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
