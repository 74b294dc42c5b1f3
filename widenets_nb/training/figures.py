"""Figure builders for the NTK during training (Fig. 1a, Thm 10-11, App. E.2).

Arrays and fits in, ``go.Figure`` out; log-log axes, error bars are one standard error,
fitted power laws are dashed with their 95% CI in the legend.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..fits import Fit, moment
from ..plots import COLORS, themed


def _fit_label(fit: Fit | None) -> str:
    if fit is None:
        return "unresolved"
    return f"n^{fit.slope:+.2f} [{fit.slope_ci[0]:+.2f}, {fit.slope_ci[1]:+.2f}]"


def _power_law(fig: go.Figure, fit: Fit | None, color: str, name: str) -> None:
    if fit is None:
        return
    n = np.geomspace(min(fit.widths), max(fit.widths), 50)
    fig.add_trace(go.Scatter(x=n, y=np.exp(fit.intercept) * n**fit.slope, mode="lines",
                             line=dict(color=color, dash="dash"), name=f"{name} fit",
                             showlegend=False, hoverinfo="skip"))


def _points(fig: go.Figure, widths, samples, statistic: str, color: str, name: str,
            fit: Fit | None, absolute: bool = False) -> None:
    stats = np.array([moment(s, statistic) for s in samples])
    values = np.abs(stats[:, 0]) if absolute else stats[:, 0]
    fig.add_trace(go.Scatter(
        x=np.asarray(widths), y=values, error_y=dict(type="data", array=stats[:, 1]),
        mode="markers+lines", line=dict(color=color, width=1), marker=dict(size=8),
        name=f"{name}: {_fit_label(fit)}",
        hovertemplate="n = %{x}<br>%{y:.3g}<extra>" + name + "</extra>"))
    _power_law(fig, fit, color, name)


def _guides(fig: go.Figure, widths, anchor: float, slopes: dict[str, float]) -> None:
    """Reference power laws through ``anchor`` at the smallest width (dotted)."""
    n = np.asarray(widths, dtype=float)
    for (label, slope), dash in zip(slopes.items(), ("dot", "dashdot"), strict=False):
        fig.add_trace(go.Scatter(x=n, y=anchor * (n / n[0]) ** slope, mode="lines",
                                 line=dict(color="gray", dash=dash), name=label,
                                 hoverinfo="skip"))


def _loglog(fig: go.Figure) -> go.Figure:
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def drift_vs_width(widths, change: dict[str, np.ndarray], fits: dict[str, Fit | None],
                   title: str = "Fig. 1a: kernel drift after training") -> go.Figure:
    """Mean |Theta_T - Theta_0| vs width per run (``change[name]``: (W, I)), with fits
    and the n^-1 (paper) and n^-1/2 (Jacot et al.) guides."""
    fig = go.Figure()
    for color, (name, samples) in zip(COLORS * 4, change.items(), strict=False):
        _points(fig, widths, np.abs(samples), "mean", color, name, fits.get(name))
    first = max(float(np.mean(np.abs(s[0]))) for s in change.values())
    _guides(fig, widths, first, {"n^-1 (paper)": -1.0, "n^-1/2 (Jacot et al.)": -0.5})
    return _loglog(themed(fig, title, "width n", "mean |Θ_t - Θ_0|"))


def drift_vs_step(steps, widths, drift: np.ndarray,
                  title: str = "Kernel drift during training") -> go.Figure:
    """Mean |Theta_t - Theta_0| vs step for every width; ``drift``: (W, I, R) per init."""
    fig = go.Figure()
    t = np.asarray(steps)
    for color, width, runs in zip(COLORS * 4, widths, drift, strict=False):
        change = np.asarray(runs)[:, t > 0]
        se = change.std(0, ddof=1) / np.sqrt(len(change))
        fig.add_trace(go.Scatter(
            x=t[t > 0], y=change.mean(0), error_y=dict(type="data", array=se),
            mode="lines+markers", line=dict(color=color), name=f"n = {width}",
            hovertemplate="step %{x}<br>%{y:.3g}<extra>n = " + str(width) + "</extra>"))
    return _loglog(themed(fig, title, "step t", "mean |Θ_t - Θ_0|"))


def variance_scaling(widths, init: np.ndarray, change: np.ndarray, fit_init: Fit | None,
                     fit_change: Fit | None, title: str = "Thm 10-11: variances") -> go.Figure:
    """Var[Theta_0] (expected n^-1) and Var[Theta_T - Theta_0] (n^-2), both (W, I)."""
    fig = go.Figure()
    _points(fig, widths, init, "variance", COLORS[0], "Var[Θ_0]", fit_init)
    _points(fig, widths, change, "variance", COLORS[1], "Var[Θ_t - Θ_0]", fit_change)
    n = np.asarray(widths, dtype=float)
    for color, samples, slope, label in ((COLORS[0], init, -1.0, "n^-1 (Thm 10)"),
                                         (COLORS[1], change, -2.0, "n^-2 (Thm 11)")):
        anchor = float(np.var(samples[0], ddof=1))
        fig.add_trace(go.Scatter(x=n, y=anchor * (n / n[0]) ** slope, mode="lines",
                                 line=dict(color=color, dash="dot"), name=label,
                                 hoverinfo="skip"))
    return _loglog(themed(fig, title, "width n", "variance over initializations"))


def step_linearity(widths, etas, remainder: np.ndarray, fits: dict[float, Fit | None],
                   title: str = "App. E.2: one GD step is linear in η at large width"
                   ) -> go.Figure:
    """RMS of f_1 - f_0 + η c Θ_0 (f_0 - y) vs width for each η; ``remainder``: (E, W, I)."""
    fig = go.Figure()
    for color, eta, samples in zip(COLORS * 4, etas, remainder, strict=False):
        _points(fig, widths, samples, "mean", color, f"η = {eta:g}", fits.get(float(eta)))
    return _loglog(themed(fig, title, "width n", "RMS of the non-linear part of f_1 - f_0"))


def infinite_width_limit(widths, samples: dict[str, np.ndarray], exact: dict[str, float],
                         fits: dict[str, Fit | None],
                         title: str = "E[Θ_0] approaches the infinite-width NTK"
                         ) -> go.Figure:
    """|E[Theta_0] - Theta_inf| vs width with standard errors; ``samples[name]``: (W, I)."""
    fig = go.Figure()
    for color, (name, runs) in zip(COLORS * 4, samples.items(), strict=False):
        _points(fig, widths, np.asarray(runs) - exact[name], "mean", color, name,
                fits.get(name), absolute=True)
    return _loglog(themed(fig, title, "width n", "|E[Θ_0] - Θ_∞|"))
