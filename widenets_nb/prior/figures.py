"""Figure of Sec. 1: f(x) over initializations against its infinite-width Gaussian."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..plots import themed
from .experiments import InitDistribution


def init_histogram(result: InitDistribution, title: str) -> go.Figure:
    """Histogram of f(x) over initializations against the density N(0, K(x,x)), drawn
    over +-4 standard deviations or the largest sample, whichever is wider."""
    samples, variance = result.samples, result.nngp_variance
    sd = float(np.sqrt(variance))
    span = max(4 * sd, float(np.max(np.abs(samples))) if samples.size else 1.0)
    grid = np.linspace(-span, span, 301)
    density = np.exp(-0.5 * (grid / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    fig = go.Figure()
    fig.add_trace(go.Histogram(
        x=samples, histnorm="probability density", nbinsx=60, name="f(x) over inits",
        opacity=0.6, hovertemplate="f(x) = %{x}<br>density = %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=grid, y=density, mode="lines", name=f"infinite width: N(0, {variance:.3g})",
        hovertemplate="f(x) = %{x:.3f}<br>density = %{y:.3f}<extra></extra>"))
    return themed(fig, title, "f(x) at initialization", "probability density", bargap=0.02)
