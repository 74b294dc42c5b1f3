"""Shared figure pieces: the ``widenets`` template and ``scaling_figure`` for every
``Scaling`` (results in, ``plotly.graph_objects.Figure`` out, never ``.show()``).

All figures share the ``widenets`` template (registered on import): white background,
light grid, one colour cycle, hover text with the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .results import Scaling

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")

pio.templates["widenets"] = go.layout.Template(
    layout=go.Layout(
        template=pio.templates["plotly_white"],
        colorway=COLORS,
        font=dict(family="Helvetica, Arial, sans-serif", size=13),
        margin=dict(l=60, r=20, t=50, b=50),
        hoverlabel=dict(namelength=-1),
        legend=dict(bgcolor="rgba(255,255,255,0.6)"),
        xaxis=dict(exponentformat="power"),
        yaxis=dict(exponentformat="power"),
    )
)


def themed(fig: go.Figure, title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    """Apply the shared template, the title and the axis labels."""
    fig.update_layout(template="widenets", title=title, xaxis_title=x_title,
                      yaxis_title=y_title, **layout)
    return fig


def scaling_figure(scalings: Sequence[Scaling] | Scaling, title: str, y_title: str = "|C|",
                   names: Sequence[str] | None = None,
                   guides: Mapping[str, float] | None = None) -> go.Figure:
    """|statistic| against width on log-log axes, one colour per ``Scaling``.

    Points carry one standard error; unresolved widths (|value| < 2 stderr) are open
    markers; the fitted power law is solid with ``format_slope`` in the legend; the
    predicted exponent (where the scaling has one) is dashed through the fit's value at the
    smallest width; ``guides`` ({label: slope}) are grey reference slopes through the first
    scaling's first point.
    """
    scalings = [scalings] if isinstance(scalings, Scaling) else list(scalings)
    names = list(names) if names is not None else [s.name for s in scalings]
    fig = go.Figure()
    for color, name, s in zip(COLORS * 4, names, scalings, strict=False):
        n = np.asarray(s.widths, dtype=float)
        values, stderr = np.abs(np.asarray(s.values)), np.asarray(s.stderr)
        mask = np.asarray(s.resolved, dtype=bool)
        for keep, symbol, suffix in ((mask, "circle", f": {s.label()}"),
                                     (~mask, "circle-open", " (unresolved)")):
            if keep.any():
                fig.add_trace(go.Scatter(
                    x=n[keep], y=values[keep], error_y=dict(type="data", array=stderr[keep]),
                    mode="markers", marker=dict(color=color, size=9, symbol=symbol),
                    name=name + suffix, legendgroup=name,
                    customdata=np.asarray(s.counts)[keep],
                    hovertemplate="n = %{x}<br>%{y:.4g}<br>%{customdata} samples<extra>"
                    + name + "</extra>"))
        if s.fitted:
            grid, curve = s.curve()
            fig.add_trace(go.Scatter(x=grid, y=curve, mode="lines", line=dict(color=color),
                                     name=f"{name} fit", legendgroup=name, showlegend=False,
                                     hoverinfo="skip"))
        if s.predicted is not None:
            grid = np.geomspace(n.min(), n.max(), 50)
            anchor = (np.exp(s.intercept) * grid[0] ** s.slope if s.fitted
                      else float(values[0]))
            fig.add_trace(go.Scatter(
                x=grid, y=anchor * (grid / grid[0]) ** s.predicted, mode="lines",
                line=dict(color=color, dash="dash"), legendgroup=name,
                name=f"{name}: predicted n^{s.predicted:+g}", hoverinfo="skip"))
    if guides and scalings:
        first = scalings[0]
        n = np.asarray(first.widths, dtype=float)
        anchor = float(np.abs(first.values[0]))
        for (label, slope), dash in zip(guides.items(), ("dot", "dashdot", "longdash"),
                                        strict=False):
            fig.add_trace(go.Scatter(x=n, y=anchor * (n / n[0]) ** slope, mode="lines",
                                     line=dict(color="gray", dash=dash), name=label,
                                     hoverinfo="skip"))
    fig = themed(fig, title, "width n", y_title)
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig
