"""Plotly pictures of Feynman and double-line diagrams (the paper's Figs. 2-7).

Feynman diagram: a vertex per tensor on a circle, one edge per Wick pair coloured by its
layer type, forced edges (contracted derivatives) dashed and labelled with their letter.
Double-line graph (Def. 3): tensor a blown up into nodes (a, 1..d) along a ray; every
Kronecker delta is a curve between two nodes of one level, coloured by the index loop
(face) it closes. Figures only draw: diagrams and results in, ``go.Figure`` out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..plots import COLORS, themed
from .exact import ExactCorrelator, ExactVariance, polynomial_text
from .experiments import ExactVsMonteCarlo, Lemma2Census
from .feynman import Diagram

LOOP_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
               "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")


def layer_color(layer: str, depth: int) -> str:
    """U blue, V red, W_l along the palette in between, b_l grey-brown."""
    if layer == "U":
        return COLORS[0]
    if layer == "V":
        return COLORS[1]
    if layer.startswith("b"):
        return "#8c564b"
    middle = ("#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#bcbd22")
    return middle[(int(layer[1:]) - 1) % len(middle)]


def _angles(m: int) -> np.ndarray:
    return np.pi / 2 - 2 * np.pi * np.arange(m) / m


def _curve(p: np.ndarray, q: np.ndarray, bend: float, points: int = 24) -> np.ndarray:
    """A quadratic Bezier from p to q bowed sideways by ``bend`` times their distance."""
    mid = (p + q) / 2
    d = q - p
    normal = np.array([-d[1], d[0]])
    control = mid + bend * normal
    t = np.linspace(0, 1, points)[:, None]
    return (1 - t) ** 2 * p + 2 * t * (1 - t) * control + t**2 * q


def _bends(diagram: Diagram) -> dict[tuple[str, tuple[int, int]], float]:
    """Sideways bends that fan out the edges joining the same two tensors."""
    groups: dict[tuple[int, int], list[str]] = {}
    for layer, matching in diagram.matchings:
        for pair in matching:
            groups.setdefault(pair, []).append(layer)
    return {(layer, pair): 0.22 * (i - (len(layers) - 1) / 2)
            for pair, layers in groups.items() for i, layer in enumerate(layers)}


def _labels(diagram: Diagram, labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None else [f"T{a + 1}" for a in range(diagram.m)]


def feynman_traces(diagram: Diagram, labels: Sequence[str] | None = None) -> list[go.Scatter]:
    """Traces of the Feynman diagram (vertices on the unit circle)."""
    labels = _labels(diagram, labels)
    angles = _angles(diagram.m)
    pos = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    letters = {(t, pair): letter for letter, t, pair in diagram.forced}
    bends = _bends(diagram)
    traces, shown = [], set()
    for layer, matching in diagram.matchings:
        for a, b in matching:
            xy = _curve(pos[a], pos[b], bends[layer, (a, b)])
            letter = letters.get((layer, (a, b)))
            forced = "" if letter is None else f", forced by derivative {letter!r}"
            if layer not in shown:
                traces.append(_legend(layer, layer_color(layer, diagram.depth), layer))
                shown.add(layer)
            traces.append(go.Scatter(
                x=xy[:, 0], y=xy[:, 1], mode="lines", name=layer, legendgroup=layer,
                showlegend=False,
                line=dict(color=layer_color(layer, diagram.depth), width=3,
                          dash="dash" if letter else "solid"),
                hovertemplate=f"{layer} edge {labels[a]} - {labels[b]}{forced}<extra></extra>"))
            if letter:
                mid = xy[len(xy) // 2]
                traces.append(go.Scatter(
                    x=[mid[0]], y=[mid[1]], mode="text", text=[letter], showlegend=False,
                    textfont=dict(size=14, color=layer_color(layer, diagram.depth)),
                    hoverinfo="skip"))
    traces.append(go.Scatter(
        x=pos[:, 0], y=pos[:, 1], mode="markers+text", text=labels,
        textposition=["top center" if y >= 0 else "bottom center" for y in pos[:, 1]],
        marker=dict(size=16, color="white", line=dict(color="black", width=2)),
        showlegend=False, hovertemplate="%{text}<extra></extra>"))
    return traces


def double_line_traces(diagram: Diagram, labels: Sequence[str] | None = None
                       ) -> list[go.Scatter]:
    """Traces of DL(gamma): node (a, l) at radius 0.55 + 0.45 (l - 1)/(d - 1 or 1)."""
    labels = _labels(diagram, labels)
    d = diagram.depth
    angles = _angles(diagram.m)
    radii = 0.55 + 0.45 * np.arange(d) / max(d - 1, 1)

    def pos(node: tuple[int, int]) -> np.ndarray:
        a, level = node
        r = radii[level - 1]
        return np.array([r * np.cos(angles[a]), r * np.sin(angles[a])])

    edges = diagram.double_line_edges()
    level_of = {e.loop: e.u[1] for e in edges}
    traces, shown = [], set()
    bends = _bends(diagram)
    for e in edges:
        a, b = sorted((e.u[0], e.v[0]))
        # levels bow by different amounts so chords through the centre stay apart
        bend = bends.get((e.layer, (a, b)), 0.0) + 0.12 * (e.u[1] - (d + 1) / 2)
        xy = _curve(pos((a, e.u[1])), pos((b, e.u[1])), bend)
        color = LOOP_COLORS[e.loop % len(LOOP_COLORS)]
        name = f"loop {e.loop + 1} (level {level_of[e.loop]})"
        if name not in shown:
            traces.append(_legend(name, color, name))
        traces.append(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="lines", name=name, legendgroup=name,
            showlegend=False,
            line=dict(color=color, width=2.5, dash="dash" if e.forced else "solid"),
            hovertemplate=(f"delta at level {e.u[1]} from {e.layer} edge {labels[a]} - "
                           f"{labels[b]}<br>{name}<extra></extra>")))
        shown.add(name)
    for a in range(diagram.m):
        nodes = [(a, l) for l in range(diagram.starts[a] + 1, d + 1)]
        xy = np.array([pos(n) for n in nodes])
        traces.append(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="lines+markers", showlegend=False,
            line=dict(color="#bbbbbb", width=1, dash="dot"),
            marker=dict(size=7, color="black"),
            text=[f"{labels[a]}, level {n[1]}" for n in nodes],
            hovertemplate="%{text}<extra></extra>"))
        tip = pos((a, d)) * 1.18
        traces.append(go.Scatter(x=[tip[0]], y=[tip[1]], mode="text", text=[labels[a]],
                                 showlegend=False, hoverinfo="skip"))
    return traces


def _legend(name: str, color: str, group: str) -> go.Scatter:
    """A legend entry alone (solid line), so dashed forced edges do not set its style."""
    return go.Scatter(x=[None], y=[None], mode="lines", name=name, legendgroup=group,
                      line=dict(color=color, width=3), hoverinfo="skip")


def _square_axes(fig: go.Figure, col: int | None = None) -> None:
    kwargs = dict(visible=False, range=[-1.45, 1.45])
    if col is None:
        fig.update_xaxes(**kwargs)
        fig.update_yaxes(scaleanchor="x", **kwargs)
    else:
        fig.update_xaxes(row=1, col=col, **kwargs)
        fig.update_yaxes(row=1, col=col, scaleanchor=f"x{col if col > 1 else ''}", **kwargs)


def diagram_caption(diagram: Diagram) -> str:
    """s_gamma with the numbers behind it: loops, Euler characteristic, surfaces."""
    surfaces = " + ".join(c.surface for c in diagram.components())
    return (f"n^{diagram.exponent}: {diagram.loops} loops, chi = v - e + f = {diagram.m} - "
            f"{diagram.edges} + {diagram.loops} = {diagram.euler}; {surfaces}")


def _single(traces: list[go.Scatter], diagram: Diagram, title: str | None) -> go.Figure:
    fig = go.Figure(traces)
    themed(fig, title or diagram_caption(diagram), "", "", height=420)
    _square_axes(fig)
    return fig


def feynman_figure(diagram: Diagram, labels: Sequence[str] | None = None,
                   title: str | None = None) -> go.Figure:
    """The Feynman diagram alone."""
    return _single(feynman_traces(diagram, labels), diagram, title)


def double_line_figure(diagram: Diagram, labels: Sequence[str] | None = None,
                       title: str | None = None) -> go.Figure:
    """The double-line graph alone, faces as coloured loops."""
    return _single(double_line_traces(diagram, labels), diagram, title)


def diagram_figure(diagram: Diagram, labels: Sequence[str] | None = None,
                   title: str | None = None) -> go.Figure:
    """Feynman diagram (left) and its double-line graph (right) side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "Feynman diagram (dashed: forced by a derivative)",
        "double-line graph (colour: index loop)"), horizontal_spacing=0.04)
    for trace in feynman_traces(diagram, labels):
        fig.add_trace(trace, row=1, col=1)
    for trace in double_line_traces(diagram, labels):
        fig.add_trace(trace, row=1, col=2)
    themed(fig, title or diagram_caption(diagram), "", "", height=470,
           legend=dict(orientation="h", y=-0.05))
    _square_axes(fig, 1)
    _square_axes(fig, 2)
    return fig


def counts_figure(result: ExactCorrelator | ExactVariance, title: str | None = None
                  ) -> go.Figure:
    """Number of diagrams at each power of n (bar chart)."""
    counts = result.diagram_counts
    powers = sorted(counts, reverse=True)
    fig = go.Figure(go.Bar(x=[f"n^{p}" for p in powers], y=[counts[p] for p in powers],
                           hovertemplate="%{x}: %{y} diagrams<extra></extra>"))
    title = title or f"{result.spec}, d = {result.depth}: diagrams at each power of n"
    return themed(fig, title, "power of n", "number of diagrams")


def exact_vs_monte_carlo_figure(result: ExactVsMonteCarlo, points: int = 200) -> go.Figure:
    """The exact E[C](n) as a curve (dotted: its leading term alone) against the Monte
    Carlo means with 2-sigma error bars."""
    grid = np.geomspace(min(result.widths), max(result.widths), points)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=grid, y=result.curve(grid), mode="lines",
                             name="exact (diagrams)",
                             hovertemplate="n = %{x:.1f}<br>E[C] = %{y:.5g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=grid, y=result.leading(grid), mode="lines",
                             name="leading term only", line=dict(dash="dot"),
                             hovertemplate="n = %{x:.1f}<br>%{y:.5g}<extra></extra>"))
    mc = result.monte_carlo
    fig.add_trace(go.Scatter(
        x=list(mc.widths), y=list(mc.values), mode="markers", name="Monte Carlo (±2 s.e.)",
        error_y=dict(type="data", array=2 * np.asarray(mc.stderr)), marker=dict(size=9),
        customdata=list(mc.counts),
        hovertemplate="n = %{x}<br>mean = %{y:.5g}<br>%{customdata} inits<extra></extra>"))
    title = (f"{result.spec}, linear, d = {result.depth}: E[C] = "
             f"{polynomial_text(result.coefficients, 4)}")
    return themed(fig, title, "width n", "E[C]", xaxis_type="log")


def lemma2_figure(census: Lemma2Census, title: str | None = None) -> go.Figure:
    """s_gamma against the Lemma 2 bound c_gamma - m/2, one bubble per (bound, s, chi)
    with its number of diagrams; every bubble lies on or below the diagonal."""
    groups = Counter(zip(census.bounds, census.exponents, census.eulers, strict=True))
    fig = go.Figure()
    for chi in sorted({k[2] for k in groups}, reverse=True):
        keys = [k for k in groups if k[2] == chi]
        counts = np.array([groups[k] for k in keys])
        fig.add_trace(go.Scatter(
            x=[k[0] for k in keys], y=[k[1] for k in keys], mode="markers", name=f"chi = {chi}",
            marker=dict(size=10 + 30 * np.sqrt(counts / counts.max()), opacity=0.7),
            text=[f"{c} diagrams" for c in counts],
            hovertemplate="c - m/2 = %{x}<br>s = %{y}<br>%{text}<extra></extra>"))
    low = min(min(census.exponents, default=0), min(census.bounds, default=0)) - 0.5
    high = max(census.bounds, default=0) + 0.5
    fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines",
                             name="s = c - m/2", line=dict(color="black", dash="dot")))
    title = title or (f"{census.spec}, d = {census.depth}: {len(census.exponents)} diagrams")
    return themed(fig, title, "Lemma 2 bound c_gamma - m/2", "s_gamma (power of n)")
