"""Figures for the O(1/n) dynamics (Figs. 1b-c, 11): arrays in, plotly figures out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..plots import COLORS, themed

STYLE = {
    "leading_continuous": ("constant kernel, gradient flow", COLORS[2], "dot"),
    "leading_discrete": ("constant kernel, GD", COLORS[4], "dashdot"),
    "corrected_continuous": ("O(1/n), gradient flow", COLORS[3], "dash"),
    "corrected_discrete": ("O(1/n), GD recursion", COLORS[1], "dash"),
}


def trajectories(steps: np.ndarray, actual: Mapping[str, np.ndarray],
                 predicted: Mapping[str, Mapping[str, np.ndarray]],
                 labels: Mapping[str, str], title: str) -> go.Figure:
    """One panel per quantity: the actual run (solid) against each prediction (dashed).

    Args:
      steps: (R,) GD steps (step 0 is left out of the log axis).
      actual: quantity -> (R,) values of the trained network.
      predicted: prediction name (``STYLE`` keys) -> quantity -> (R,) values.
      labels: quantity -> panel title.
    """
    keep = np.asarray(steps) > 0
    names = list(actual)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[labels[q] for q in names],
                        horizontal_spacing=0.08)
    for col, q in enumerate(names, start=1):
        fig.add_trace(go.Scatter(
            x=steps[keep], y=np.asarray(actual[q])[keep], mode="lines", name="actual run",
            line=dict(color=COLORS[0], width=3), legendgroup="actual", showlegend=col == 1,
            hovertemplate="step %{x}<br>%{y:.6f}<extra>actual</extra>"), row=1, col=col)
        for p, values in predicted.items():
            label, color, dash = STYLE[p]
            fig.add_trace(go.Scatter(
                x=steps[keep], y=np.asarray(values[q])[keep], mode="lines", name=label,
                line=dict(color=color, dash=dash, width=2), legendgroup=p,
                showlegend=col == 1,
                hovertemplate=f"step %{{x}}<br>%{{y:.6f}}<extra>{label}</extra>"),
                row=1, col=col)
    themed(fig, title, "", "", height=420, legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(type="log", title_text="GD step")
    fig.update_annotations(font_size=12)  # keep long subplot titles inside their panels
    return fig


def errors_vs_width(widths: tuple[int, ...], errors: Mapping[str, np.ndarray],
                    slopes: Mapping[str, float | None], title: str,
                    y_title: str = "max over steps |prediction - actual|") -> go.Figure:
    """Mean error over initializations (error bars: standard error) against width, log-log,
    one curve per prediction, with its fitted slope in the legend."""
    fig = go.Figure()
    w = np.asarray(widths, dtype=float)
    for p, e in errors.items():
        e = np.asarray(e, dtype=float)
        mean = e.mean(axis=1)
        se = e.std(axis=1, ddof=1) / np.sqrt(e.shape[1]) if e.shape[1] > 1 else None
        label, color, dash = STYLE[p]
        slope = slopes.get(p)
        name = label if slope is None else f"{label}: slope {slope:.2f}"
        fig.add_trace(go.Scatter(
            x=w, y=mean, mode="lines+markers", name=name,
            error_y=None if se is None else dict(type="data", array=se, visible=True),
            line=dict(color=color, dash=dash),
            hovertemplate="n = %{x}<br>error %{y:.3g}<extra>" + label + "</extra>"))
    for power, anchor in ((-1, "n^-1"), (-2, "n^-2")):
        ref = np.asarray([np.asarray(e).mean(axis=1)[0] for e in errors.values()]).max()
        fig.add_trace(go.Scatter(
            x=w, y=ref * (w / w[0]) ** power, mode="lines", name=anchor,
            line=dict(color="#bbbbbb", width=1), hoverinfo="skip"))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    return themed(fig, title, "width n", y_title)
