"""Figure builders: arrays in, ``plotly.graph_objects.Figure`` out (never ``.show()``).

All figures share the ``widenets`` template (registered on import): white background,
light grid, one colour cycle, hover text with the numbers.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

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


def init_histogram(samples: np.ndarray, nngp_variance: float, title: str) -> go.Figure:
    """Histogram of f(x) over initializations against the density N(0, K(x,x))."""
    samples = np.asarray(samples)
    sd = float(np.sqrt(nngp_variance))
    span = max(4 * sd, float(np.max(np.abs(samples))) if samples.size else 1.0)
    grid = np.linspace(-span, span, 301)
    density = np.exp(-0.5 * (grid / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    fig = go.Figure()
    fig.add_trace(go.Histogram(
        x=samples, histnorm="probability density", nbinsx=60, name="f(x) over inits",
        opacity=0.6, hovertemplate="f(x) = %{x}<br>density = %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=grid, y=density, mode="lines", name=f"infinite width: N(0, {nngp_variance:.3g})",
        hovertemplate="f(x) = %{x:.3f}<br>density = %{y:.3f}<extra></extra>"))
    return themed(fig, title, "f(x) at initialization", "probability density", bargap=0.02)
