"""Figure builders for correlators: the cluster graph, |C| against width, window fits.

Results in, ``plotly.graph_objects.Figure`` out; nothing here samples.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import paper
from ..plots import COLORS, scaling_figure, themed
from ..results import Report, Scaling
from .clusters import cluster_graph, predict
from .experiments import ROWS, Table, TheoryPrediction
from .notation import Correlator, parse


def cluster_graph_figure(c: Correlator | str) -> go.Figure:
    """G_C drawn on a circle: a vertex per tensor, an edge (labelled by its letter) per
    contracted pair, vertices coloured by component; the title gives s_C (eq. 4)."""
    c = parse(c) if isinstance(c, str) else c
    graph = cluster_graph(c)
    angles = 2 * np.pi * np.arange(c.m) / max(c.m, 1) + np.pi / 2
    xy = {i: (np.cos(a), np.sin(a)) for i, a in enumerate(angles)}
    component = {v: k for k, comp in enumerate(sorted(nx.connected_components(graph), key=min))
                 for v in comp}
    fig = go.Figure()
    for i, j, letter in graph.edges(keys=True):
        (x0, y0), (x1, y1) = xy[i], xy[j]
        if i == j:  # a trace: a small loop outside the vertex
            t = np.linspace(0, 2 * np.pi, 40)
            xs, ys = 1.25 * x0 + 0.25 * x0 * np.cos(t), 1.25 * y0 + 0.25 * y0 * np.sin(t)
        else:
            xs, ys = np.array([x0, x1]), np.array([y0, y1])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#888", width=2),
                                 hoverinfo="skip", showlegend=False))
        fig.add_annotation(x=float(np.mean(xs)), y=float(np.mean(ys)), text=letter,
                           showarrow=False, font=dict(size=14, color="#444"))
    for v, data in graph.nodes(data=True):
        fig.add_trace(go.Scatter(
            x=[xy[v][0]], y=[xy[v][1]], mode="markers+text", text=[data["label"]],
            textposition="top center", showlegend=False,
            marker=dict(size=22, color=COLORS[component[v] % len(COLORS)]),
            hovertemplate=f"{data['label']}: tensor at x_{data['input']}<extra></extra>"))
    p = predict(c)
    title = (f"cluster graph of {c.text}: n_e = {p.n_e}, n_o = {p.n_o}, m = {p.m} "
             f"→ {'2 s_C' if c.variance else 's_C'} = {p.s:g}")
    fig = themed(fig, title, "", "", height=360)
    fig.update_xaxes(visible=False, range=[-1.8, 1.8])
    fig.update_yaxes(visible=False, range=[-1.6, 1.8], scaleanchor="x")
    return fig


def with_exact(fig: go.Figure, s: Scaling) -> go.Figure:
    """Add the exact values of ``s`` (deep linear networks, ``diagrams.exact``), where it
    has them, as a black line through the measured widths, named with the exact local
    slope over the fit window."""
    if s.exact is None:
        return fig
    slope = "" if s.exact_slope is None else f", local slope {s.exact_slope:+.3f}"
    fig.add_trace(go.Scatter(
        x=list(s.widths), y=np.abs(s.exact), mode="lines+markers",
        line=dict(color="black", width=1.5), marker=dict(symbol="x", size=7, color="black"),
        name=f"exact (deep linear){slope}",
        hovertemplate="n = %{x}<br>exact %{y:.5g}<extra></extra>"))
    return fig


def _y_title(s: Scaling) -> str:
    return "|C|" if s.statistic == "mean" else "Var"


def with_theory(fig: go.Figure, s: Scaling, theory: TheoryPrediction | None) -> go.Figure:
    """Add the 1/n theory's |E[C](n)| (``experiments.theory_prediction``), where it has
    numbers, as a dashed green line through the measured widths."""
    if theory is None or theory.infinite_width is None:
        return fig
    fig.add_trace(go.Scatter(
        x=list(s.widths), y=np.abs(theory.at(s.widths)), mode="lines",
        line=dict(color="seagreen", width=2, dash="dash"),
        name=f"1/n theory: {theory.infinite_width:.4g} {theory.coefficient_1_over_n:+.4g}/n",
        hovertemplate="n = %{x}<br>theory %{y:.5g}<extra></extra>"))
    return fig


def correlator_figure(s: Scaling, theory: TheoryPrediction | None = None) -> go.Figure:
    """|C| against n of one correlator measurement (``experiments.correlator_scaling``):
    ``plots.scaling_figure`` with the fitted exponent and the Conjecture 1 slope, the
    exact curve of a linear network (``with_exact``) and the 1/n theory (``with_theory``)."""
    network = ", ".join(f"{k} {v}" for k, v in s.labels.items())
    title = f"{s.name}: {network},<br>{min(s.counts)} inits per width"
    return with_theory(with_exact(scaling_figure(s, title, y_title=_y_title(s)), s), s, theory)


def cell_figure(table: Table | Report, row: int, activation: str) -> go.Figure:
    """One table cell: the Monte Carlo values against n with their fit, the Conjecture 1
    slope and, for the linear column of the Gaussian tables, the exact curve."""
    t = table if isinstance(table, Table) else Table.from_report(table)
    s = t.cell(row, activation)
    title = (f"{t.name} row {row}, {activation}: {s.name}<br>{min(s.counts)} inits per "
             f"width, CI: {s.method}")
    return with_exact(scaling_figure(s, title, y_title=_y_title(s)), s)


def window_figure(table: Table | Report, title: str | None = None) -> go.Figure:
    """Fitted exponent against the largest width of the fit window 2^a..2^k, one panel per
    activation and one colour per table row, with the 95% CI as error bars; the paper's
    value (dotted) and the end of the paper's width range (grey line) for comparison."""
    t = table if isinstance(table, Table) else Table.from_report(table)
    fig = make_subplots(rows=1, cols=len(t.activations), subplot_titles=t.activations,
                        shared_yaxes=True, horizontal_spacing=0.04)
    for col, activation in enumerate(t.activations, 1):
        for row, color in zip(ROWS, COLORS * 2, strict=False):
            windows = [w for w in t.window_fits(row, activation) if w.slope is not None]
            if not windows:
                continue
            slopes = np.array([w.slope for w in windows])
            ci = np.array([w.slope_ci for w in windows])
            fig.add_trace(go.Scatter(
                x=[w.widths[1] for w in windows], y=slopes, mode="lines+markers",
                name=f"row {row}", legendgroup=str(row), showlegend=col == 1,
                line=dict(color=color), error_y=dict(type="data", symmetric=False,
                                                     array=ci[:, 1] - slopes,
                                                     arrayminus=slopes - ci[:, 0]),
                hovertemplate=f"row {row}, {activation}<br>widths "
                f"{windows[0].widths[0]}..%{{x}}<br>exponent %{{y:.3f}}<extra></extra>"),
                row=1, col=col)
            reference = paper.table_value(t.name, activation, row)
            if reference is not None:
                fig.add_hline(y=reference, line=dict(color=color, dash="dot", width=1),
                              row=1, col=col)
        fig.add_vline(x=paper.TABLE_WIDTHS[1], line=dict(color="#999", width=1), row=1,
                      col=col)
    p = t.protocol
    title = title or (f"{t.name}: exponent of |{p.statistic}| fitted on widths "
                      f"{p.widths[0]}..n ({p.inits} inits); dotted: paper, grey: paper's "
                      "largest width")
    fig = themed(fig, title, "", "", height=430)
    ticks = sorted({w.widths[1] for w in t.windows})
    fig.update_xaxes(type="log", title_text="largest width n in the fit", tickvals=ticks,
                     ticktext=[f"2<sup>{int(np.log2(w))}</sup>" for w in ticks])
    fig.update_yaxes(title_text="fitted exponent", row=1, col=1)
    fig.update_layout(title_font_size=13)
    return fig
