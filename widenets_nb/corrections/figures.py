"""Figures for the O(1/n) dynamics (Figs. 1b-c, 11): trajectories in, plotly figures out.

The error-vs-width views of Fig. 11 are ``results.Scaling``s, drawn by
``plots.scaling_figure``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..plots import COLORS, themed
from .experiments import PREDICTIONS, Traces

#: prediction -> (colour, dash) of its curves.
STYLE: dict[str, tuple[str, str]] = {
    "leading_continuous": (COLORS[2], "dot"),
    "corrected_continuous": (COLORS[3], "dash"),
    "leading_discrete": (COLORS[4], "dashdot"),
    "corrected_discrete": (COLORS[1], "dash"),
}


def trajectories(traces: Traces, title: str) -> go.Figure:
    """Figs. 1b-c / 11: one panel per quantity, the actual run (solid) against each
    prediction (dashed), on a log step axis (step 0 is left out)."""
    keep = np.asarray(traces.steps) > 0
    steps = np.asarray(traces.steps)[keep]
    names = list(traces.actual)
    fig = make_subplots(rows=1, cols=len(names),
                        subplot_titles=[traces.labels[q] for q in names],
                        horizontal_spacing=0.08)
    for col, q in enumerate(names, start=1):
        fig.add_trace(go.Scatter(
            x=steps, y=np.asarray(traces.actual[q])[keep], mode="lines", name="actual run",
            line=dict(color=COLORS[0], width=3), legendgroup="actual", showlegend=col == 1,
            hovertemplate="step %{x}<br>%{y:.6f}<extra>actual</extra>"), row=1, col=col)
        for p, values in traces.predicted.items():
            label, (color, dash) = PREDICTIONS[p], STYLE[p]
            fig.add_trace(go.Scatter(
                x=steps, y=np.asarray(values[q])[keep], mode="lines", name=label,
                line=dict(color=color, dash=dash, width=2), legendgroup=p,
                showlegend=col == 1,
                hovertemplate=f"step %{{x}}<br>%{{y:.6f}}<extra>{label}</extra>"),
                row=1, col=col)
    themed(fig, title, "", "", height=420, legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(type="log", title_text="GD step")
    fig.update_annotations(font_size=12)  # keep long subplot titles inside their panels
    return fig
