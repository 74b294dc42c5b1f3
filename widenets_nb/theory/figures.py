"""Figure builders for the 1/n theory: the measured statistic and its coefficient against
width, and the depth-to-width ratio of ReLU networks.

Results in (``experiments.Comparison``, ``experiments.DepthWidth``), ``go.Figure`` out;
nothing here samples.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..plots import COLORS, themed
from .experiments import HANIN_NICA_RATE, Comparison, DepthWidth

#: Names of the traces (tests and the notebook find them by these).
MEASURED, INFINITE, FIRST_ORDER, PREDICTED, FITTED = (
    "Monte Carlo", "infinite width E_inf", "E_inf + c_1/n (predicted)",
    "predicted c_1", "fit c_1 + c_2/n")
EXPONENTIAL, LINEAR = f"exp({HANIN_NICA_RATE:g} β) (Hanin-Nica)", "first order 1 + c β"
THEORY = "first order 1 + Var₁/(n Θ∞²) (recursions)"


def _grid(c: Comparison) -> np.ndarray:
    n = np.asarray(c.widths, dtype=np.float64)
    return np.geomspace(n.min() / 1.5, n.max() * 1.5, 60)


def _value_traces(c: Comparison) -> list[go.Scatter]:
    """E_MC(n) with one standard error, E_inf and E_inf + c_1 / n."""
    grid = _grid(c)
    return [
        go.Scatter(x=list(c.widths), y=list(c.values), mode="markers", name=MEASURED,
                   marker=dict(color=COLORS[0], size=9),
                   error_y=dict(type="data", array=list(c.stderr)),
                   customdata=list(c.counts),
                   hovertemplate="n = %{x}<br>E_MC = %{y:.6g}<br>%{customdata} networks"
                                 "<extra></extra>"),
        go.Scatter(x=grid, y=np.full_like(grid, c.infinite_width), mode="lines",
                   name=INFINITE, line=dict(color="gray", dash="dot"),
                   hovertemplate=f"E_inf = {c.infinite_width:.6g}<extra></extra>"),
        go.Scatter(x=grid, y=c.infinite_width + c.predicted / grid, mode="lines",
                   name=FIRST_ORDER, line=dict(color=COLORS[1]),
                   hovertemplate="n = %{x:.0f}<br>%{y:.6g}<extra>E_inf + c_1/n</extra>"),
    ]


def _residual_traces(c: Comparison) -> list[go.Scatter]:
    """n (E_MC - E_inf) with n SE, the predicted c_1 and the fitted c_1 + c_2 / n."""
    grid = _grid(c)
    f = c.fit
    return [
        go.Scatter(x=list(c.widths), y=list(c.residuals), mode="markers",
                   name=f"n (E_MC - E_inf): c_1 = {f.c1:+.4g} ± {f.c1_se:.2g}",
                   marker=dict(color=COLORS[0], size=9, symbol="diamond"),
                   error_y=dict(type="data", array=list(c.residual_se)),
                   hovertemplate="n = %{x}<br>n (E_MC - E_inf) = %{y:.4g}<extra></extra>"),
        go.Scatter(x=grid, y=np.full_like(grid, c.predicted), mode="lines",
                   name=f"{PREDICTED} = {c.predicted:+.4g}", line=dict(color=COLORS[1]),
                   hovertemplate=f"predicted c_1 = {c.predicted:+.5g}<extra></extra>"),
        go.Scatter(x=grid, y=f.curve(grid), mode="lines", name=FITTED,
                   line=dict(color=COLORS[0], dash="dash"), hoverinfo="skip"),
    ]


def _title(c: Comparison) -> str:
    return (f"{c.protocol.correlator} ({c.protocol.label}): z = {c.z:+.1f} SE<br>"
            f"<sub>{min(c.counts)} networks per width; {c.estimator}</sub>")


def value_figure(c: Comparison) -> go.Figure:
    """E_MC(n) with error bars against width, the infinite-width line and the first-order
    prediction E_inf + c_1 / n."""
    fig = go.Figure(_value_traces(c))
    fig = themed(fig, _title(c), "width n", f"E[{c.protocol.correlator}]", height=420)
    fig.update_xaxes(type="log")
    return fig


def residual_figure(c: Comparison) -> go.Figure:
    """n (E_MC(n) - E_inf) with error bars against width, the predicted coefficient
    (horizontal) and the fit c_1 + c_2 / n whose intercept is the measured c_1."""
    fig = go.Figure(_residual_traces(c))
    fig = themed(fig, _title(c), "width n", "n (E_MC - E_inf)", height=420)
    fig.update_xaxes(type="log")
    return fig


def comparison_figure(c: Comparison) -> go.Figure:
    """``value_figure`` and ``residual_figure`` side by side (the panel's figure)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        f"E[{c.protocol.correlator}] against n", "n (E_MC - E_inf) against n"))
    for trace in _value_traces(c):
        fig.add_trace(trace, row=1, col=1)
    for trace in _residual_traces(c):
        fig.add_trace(trace, row=1, col=2)
    fig = themed(fig, _title(c), "", "", height=500)
    fig.update_xaxes(type="log", title_text="width n")
    fig.update_layout(legend=dict(orientation="h", y=-0.3), margin=dict(t=120))
    return fig


def depth_width_figure(r: DepthWidth) -> go.Figure:
    """R = E[Theta^2] / E[Theta]^2 against beta = d / n on log-log axes: Monte Carlo with
    error bars, Hanin & Nica's exp(5 beta), the recursions' first order 1 + Var_1(d) /
    (n Theta_inf^2) where the registry covers ReLU, the line 1 + c beta (c fitted to the
    small-beta points, as labelled) and the fitted exponential."""
    beta = np.asarray(r.betas)
    grid = np.geomspace(beta.min() / 1.3, beta.max() * 1.1, 80)
    p = r.protocol
    fig = go.Figure([
        go.Scatter(x=beta, y=list(r.ratio), mode="markers", name=f"{MEASURED} (n = {p.width})",
                   marker=dict(color=COLORS[0], size=9),
                   error_y=dict(type="data", array=list(r.ratio_se)),
                   customdata=list(p.depths),
                   hovertemplate="β = %{x:.3g} (d = %{customdata})<br>R = %{y:.4g}"
                                 "<extra></extra>"),
        go.Scatter(x=grid, y=np.exp(HANIN_NICA_RATE * grid), mode="lines", name=EXPONENTIAL,
                   line=dict(color=COLORS[1]), hoverinfo="skip"),
    ])
    if r.theory:
        fig.add_trace(go.Scatter(
            x=list(r.theory_betas), y=list(r.theory), mode="lines", name=THEORY,
            line=dict(color=COLORS[4], width=2.5), customdata=list(r.theory_depths),
            hovertemplate="β = %{x:.3g} (d = %{customdata})<br>first order %{y:.4g}"
                          "<extra></extra>"))
    if r.slope is not None:
        fig.add_trace(go.Scatter(
            x=grid, y=r.first_order(grid), mode="lines", line=dict(color=COLORS[2], dash="dash"),
            name=f"{LINEAR}, c = {r.slope:.3g} ± {r.slope_se:.2g} (fitted, β ≤ {r.small_beta:g})",
            hoverinfo="skip"))
    if r.rate is not None:
        fig.add_trace(go.Scatter(
            x=grid, y=np.exp(r.intercept + r.rate * grid), mode="lines",
            line=dict(color=COLORS[3], dash="dot"),
            name=f"fit exp(a + κ β), κ = {r.rate:.3g} ± {r.rate_se:.2g}", hoverinfo="skip"))
    fail = r.failure_beta
    if fail is not None:
        fig.add_vline(x=fail, line=dict(color="#999", width=1))
    which = "recursions" if r.theory else "fitted line"
    title = (f"ReLU NTK: E[Θ²]/E[Θ]² against β = d/n ({p.inits} networks per depth)"
             + ("" if fail is None else f"<br><sub>first order ({which}) first fails (> 3 SE) "
                                         f"at β = {fail:.3g} (grey line)</sub>"))
    fig = themed(fig, title, "β = d / n", "E[Θ²] / E[Θ]²", height=460)
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig
