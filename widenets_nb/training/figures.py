"""Figure builders for the NTK during training (Fig. 1a, Thm 10-11, App. E.2).

Results in, ``go.Figure`` out. Every statistic against width is ``plots.scaling_figure``
(here only its titles and reference slopes are chosen); ``drift_vs_step`` draws the drift
along training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..paper import SLOPES
from ..plots import COLORS, scaling_figure, themed
from ..results import Scaling
from .experiments import DriftResult

#: Fig. 1a's reference slopes: the paper's n^-1 and Jacot et al.'s bound n^-1/2.
DRIFT_GUIDES = {"n^-1 (paper)": SLOPES["fig1a.drift"].value,
                "n^-1/2 (Jacot et al.)": SLOPES["fig1a.jacot_bound"].value}


def drift(scalings: Sequence[Scaling], names: Sequence[str] | None = None,
          title: str = "Fig. 1a: kernel drift after training") -> go.Figure:
    """Mean |Θ_T - Θ_0| against width (Lemma 1, Thm 11) with the ``DRIFT_GUIDES``."""
    return scaling_figure(scalings, title, "mean |Θ_t - Θ_0|", names, DRIFT_GUIDES)


def variances(scalings: Sequence[Scaling], title: str = "Thm 10-11: variances",
              names: Sequence[str] | None = None) -> go.Figure:
    """Var[Θ_0] (Thm 10: n^-1) and Var[Θ_T - Θ_0] (Thm 11: n^-2) against width."""
    return scaling_figure(scalings, title, "variance over initializations", names)


def linearity(scalings: Sequence[Scaling],
              title: str = "App. E.2: one GD step is linear in η at large width") -> go.Figure:
    """RMS of f_1 - f_0 + η c Θ_0 (f_0 - y) against width per η (Thm 12: n^-1)."""
    return scaling_figure(scalings, title, "RMS of the non-linear part of f_1 - f_0",
                          [f"η = {s.labels['eta']}" for s in scalings])


def limit(scalings: Sequence[Scaling],
          title: str = "E[Θ_0] approaches the infinite-width NTK",
          predicted: Mapping[str, float] | None = None) -> go.Figure:
    """|E[Θ_0] - Θ_∞| against width per activation, with the 1/n theory's |a_1| / n
    (``experiments.limit_theory``) dashed in the activation's colour where given."""
    fig = scaling_figure(scalings, title, "|E[Θ_0] - Θ_∞|",
                         [s.labels["activation"] for s in scalings])
    for color, s in zip(COLORS * 4, scalings, strict=False):
        a = s.labels["activation"]
        if predicted is None or a not in predicted:
            continue
        n = np.geomspace(min(s.widths), max(s.widths), 50)
        fig.add_trace(go.Scatter(
            x=n, y=abs(predicted[a]) / n, mode="lines", line=dict(color=color, dash="dash"),
            name=f"{a}: 1/n theory, a_1 = {predicted[a]:+.4f}",
            hovertemplate="n = %{x:.0f}<br>|a_1|/n = %{y:.3g}<extra></extra>"))
    return fig


def drift_vs_step(result: DriftResult, activation: int = 0, optimizer: int = 0,
                  title: str = "Kernel drift during training") -> go.Figure:
    """Mean |Θ_t - Θ_0| (one standard error) against step t > 0 for every width, for the
    ``activation``-th activation and ``optimizer``-th optimizer of the run."""
    fig = go.Figure()
    t = np.asarray(result.steps)
    runs = result.mean_drift()[activation, optimizer][..., t > 0]  # (W, I, R')
    for color, width, change in zip(COLORS * 4, result.protocol.widths, runs, strict=False):
        se = change.std(0, ddof=1) / np.sqrt(len(change))
        fig.add_trace(go.Scatter(
            x=t[t > 0], y=change.mean(0), error_y=dict(type="data", array=se),
            mode="lines+markers", line=dict(color=color), name=f"n = {width}",
            hovertemplate="step %{x}<br>%{y:.3g}<extra>n = " + str(width) + "</extra>"))
    fig = themed(fig, title, "step t", "mean |Θ_t - Θ_0|")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig
