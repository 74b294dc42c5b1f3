"""Figure builders for Hessian and NTK spectra (Figs. 9-10): arrays in, go.Figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..plots import COLORS, themed


def loglog_fits(series: Sequence[dict], title: str, y_title: str) -> go.Figure:
    """Values with standard errors vs width on log-log axes, each with its fitted power law.

    Each series is a dict with ``name``, ``widths``, ``values``, ``stderr`` and optionally
    ``slope``, ``intercept`` (log A in A n^slope) and ``slope_ci``.
    """
    fig = go.Figure()
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        widths = np.asarray(s["widths"], dtype=float)
        stderr = np.nan_to_num(np.asarray(s["stderr"], dtype=float))
        fig.add_trace(go.Scatter(
            x=widths, y=s["values"], mode="markers", name=s["name"],
            marker=dict(color=color, size=8), error_y=dict(type="data", array=stderr),
            hovertemplate="n = %{x}<br>%{y:.3e}<extra>" + s["name"] + "</extra>"))
        if s.get("slope") is not None and s.get("intercept") is not None:
            low, high = s.get("slope_ci", (np.nan, np.nan))
            fig.add_trace(go.Scatter(
                x=widths, y=np.exp(s["intercept"]) * widths ** s["slope"], mode="lines",
                line=dict(color=color, dash="dash"),
                name=f"fit: slope {s['slope']:.2f} [{low:.2f}, {high:.2f}]", hoverinfo="skip"))
    fig.update_xaxes(type="log", dtick=np.log10(2))
    fig.update_yaxes(type="log")
    return themed(fig, title, "width n", y_title)


def top_eigenvalues(hessian: Sequence[float], theta: Sequence[float], title: str,
                    bounds: Sequence[float] | None = None) -> go.Figure:
    """Fig. 9b: the ordered top eigenvalues of H (Lanczos) and of Theta, side by side."""
    index = np.arange(1, len(hessian) + 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=index, y=theta, mode="markers", name="Θ (exact)",
        marker=dict(symbol="circle-open", size=13, line=dict(width=2)),
        hovertemplate="i = %{x}<br>λ_i(Θ) = %{y:.5f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=index, y=hessian, mode="markers", name="H (Lanczos)", marker=dict(size=7),
        error_y=None if bounds is None else dict(type="data", array=np.asarray(bounds)),
        hovertemplate="i = %{x}<br>λ_i(H) = %{y:.5f}<extra></extra>"))
    return themed(fig, title, "eigenvalue index i", "eigenvalue")


def moment_gaps(rows: Sequence[dict], title: str) -> go.Figure:
    """Fig. 10a: |Tr H^m - Tr Theta^m| / Tr Theta^m for m = 1..4, one bar group per row."""
    fig = go.Figure()
    for i, row in enumerate(rows):
        rel = np.abs(np.asarray(row["relative"], dtype=float))
        fig.add_trace(go.Bar(
            x=[f"m = {m}" for m in range(1, len(rel) + 1)], y=rel, name=row["name"],
            marker_color=COLORS[i % len(COLORS)],
            error_y=dict(type="data", array=np.asarray(row["relative_se"], dtype=float)),
            hovertemplate="%{x}: %{y:.2e}<extra>" + row["name"] + "</extra>"))
    fig.update_yaxes(type="log")
    return themed(fig, title, "moment", "|Tr H^m − Tr Θ^m| / Tr Θ^m", barmode="group")


def density(grid: Sequence[float], values: Sequence[Sequence[float]], theta: Sequence[
            Sequence[float]], names: Sequence[str], title: str) -> go.Figure:
    """The SLQ eigenvalue density of H (log scale) with Theta's eigenvalues as a rug."""
    fig = go.Figure()
    for i, (g, d, t, name) in enumerate(zip(grid, values, theta, names, strict=True)):
        color = COLORS[i % len(COLORS)]
        fig.add_trace(go.Scatter(
            x=g, y=np.maximum(np.asarray(d, dtype=float), 1e-12), mode="lines",
            name=f"H density, {name}", line=dict(color=color),
            hovertemplate="λ = %{x:.4f}<br>density %{y:.2e}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=t, y=np.full(len(t), 1e-9 * 10 ** (-i)), mode="markers",
            name=f"Θ eigenvalues, {name}", marker=dict(symbol="line-ns-open", size=14,
                                                       color=color),
            hovertemplate="λ(Θ) = %{x:.4f}<extra></extra>"))
    fig.update_yaxes(type="log")
    return themed(fig, title, "eigenvalue λ", "density (per parameter)")
