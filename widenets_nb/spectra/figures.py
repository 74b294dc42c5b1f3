"""Figure builders for Hessian and NTK spectra (Figs. 9-10): results in, go.Figure out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..plots import COLORS, scaling_figure, themed
from ..results import Scaling
from .measurements import Density, MomentGaps, TopComparison


def fig9a(scalings: Sequence[Scaling], title: str) -> go.Figure:
    """Fig. 9a: the eigenvalue gaps against width, fitted and predicted slopes (eq. 76);
    a scaling left without any certified width is not drawn."""
    return scaling_figure([s for s in scalings if s.widths], title,
                          "eigenvalue gap |λᵢ(H) − λᵢ(Θ)|")


def fig10a(scalings: Sequence[Scaling], title: str) -> go.Figure:
    """Fig. 10a against width: |Tr H^m − Tr Θ^m| / Tr Θ^m with the predicted n^-1 (eq. 82)."""
    return scaling_figure(scalings, title, "|Tr Hᵐ − Tr Θᵐ| / Tr Θᵐ")


def fig10b(scalings: Sequence[Scaling], title: str) -> go.Figure:
    """Fig. 10b: the RMS eigenvalue sqrt(Tr B^2 / P) of B against width."""
    return scaling_figure(scalings, title, "sqrt(Tr B² / P)")


def top_eigenvalues(comparison: TopComparison, title: str) -> go.Figure:
    """Fig. 9b: the ordered top eigenvalues of H (certified, residual bounds as error bars)
    and of Theta, side by side. H's values are split into those paired with Theta
    (eigenvector mostly in J's row space), those of B's cluster, and unresolved ones
    (bound >= 0.1 gap), which are grey crosses."""
    c = comparison
    k = len(c.hessian)
    index = np.arange(1, k + 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=index, y=np.asarray(c.theta)[:k], mode="markers", name="Θ (exact)",
        marker=dict(symbol="circle-open", size=13, line=dict(width=2)),
        hovertemplate="i = %{x}<br>λ_i(Θ) = %{y:.5f}<extra></extra>"))
    resolved = np.asarray(c.resolved, bool)
    groups = {"H, paired with Θ": c.paired, "H, B's cluster": resolved & ~c.paired,
              "H, unresolved": ~resolved}
    symbols = {"H, paired with Θ": "circle", "H, B's cluster": "diamond",
               "H, unresolved": "x"}
    custom = np.stack([c.bounds, c.gaps, c.overlaps], axis=1)
    for (name, mask), color in zip(groups.items(), (COLORS[1], COLORS[2], "grey"),
                                   strict=True):
        if not mask.any():
            continue
        fig.add_trace(go.Scatter(
            x=index[mask], y=np.asarray(c.hessian)[mask], mode="markers", name=name,
            marker=dict(size=8, symbol=symbols[name], color=color),
            error_y=dict(type="data", array=np.asarray(c.bounds)[mask]),
            customdata=custom[mask],
            hovertemplate=("i = %{x}<br>λ_i(H) = %{y:.5f}<br>bound %{customdata[0]:.1e}, "
                           "gap %{customdata[1]:.1e}<br>|P_J v|² = %{customdata[2]:.2f}"
                           "<extra></extra>")))
    return themed(fig, title, "eigenvalue index i", "eigenvalue")


def moment_gaps(gaps: Mapping[str, MomentGaps], title: str) -> go.Figure:
    """Fig. 10a: |Tr H^m - Tr Theta^m| / Tr Theta^m for m = 1..4, one bar group per name."""
    fig = go.Figure()
    for color, (name, g) in zip(COLORS * 4, gaps.items(), strict=False):
        rel = np.abs(np.asarray(g.relative, dtype=float))
        fig.add_trace(go.Bar(
            x=[f"m = {m}" for m in range(1, len(rel) + 1)], y=rel, name=name,
            marker_color=color,
            error_y=dict(type="data", array=np.asarray(g.relative_se, dtype=float)),
            hovertemplate="%{x}: %{y:.2e}<extra>" + name + "</extra>"))
    fig.update_yaxes(type="log")
    return themed(fig, title, "moment", "|Tr H^m − Tr Θ^m| / Tr Θ^m", barmode="group")


def density(densities: Mapping[str, Density], title: str) -> go.Figure:
    """The SLQ eigenvalue density of H (log scale) with Theta's eigenvalues as a rug, one
    colour per name."""
    fig = go.Figure()
    for i, (color, (name, d)) in enumerate(zip(COLORS * 4, densities.items(), strict=False)):
        fig.add_trace(go.Scatter(
            x=d.grid, y=np.maximum(np.asarray(d.density, dtype=float), 1e-12), mode="lines",
            name=f"H density, {name}", line=dict(color=color),
            hovertemplate="λ = %{x:.4f}<br>density %{y:.2e}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=d.theta, y=np.full(len(d.theta), 1e-9 * 10 ** (-i)), mode="markers",
            name=f"Θ eigenvalues, {name}",
            marker=dict(symbol="line-ns-open", size=14, color=color),
            hovertemplate="λ(Θ) = %{x:.4f}<extra></extra>"))
    fig.update_yaxes(type="log")
    return themed(fig, title, "eigenvalue λ", "density (per parameter)")
