"""Notebook 05 panels: Hessian against NTK spectra (App. E.3), built on ``widgets.Panel``.

Every panel's training and measurements go through the cached ``measurements`` functions,
so a Run with values computed before answers at once, also after a kernel restart.
"""

from __future__ import annotations

import ipywidgets as W
import jax
import numpy as np
import plotly.graph_objects as go

from ..widgets import Panel, log2_slider
from . import figures, measurements
from .protocols import ExplorerProtocol

ACTIVATIONS = ("relu", "tanh", "erf", "gelu", "linear")


def _controls(p: ExplorerProtocol, steps: int) -> dict[str, W.ValueWidget]:
    return {
        "log2_width": log2_slider("log2 width", 4, p.max_log2_width, p.log2_width),
        "depth": W.IntSlider(value=2, min=1, max=3, description="depth",
                             continuous_update=False),
        "activation": W.Dropdown(options=ACTIVATIONS, value="relu", description="activation"),
        "classes": W.Dropdown(options=(2, 3), value=2, description="classes"),
        "per_class": W.IntSlider(value=p.per_class, min=2, max=20, description="images/class",
                                 continuous_update=False, style={"description_width": "initial"}),
        "steps": W.IntSlider(value=steps, min=0, max=3000, step=100, description="GD steps",
                             continuous_update=False),
    }


def _instance(p: ExplorerProtocol, log2_width: int, depth: int, activation: str,
              classes: int, per_class: int
              ) -> tuple[measurements.Setup, tuple[jax.Array, jax.Array]]:
    """The network, its images and its instance keys (from the protocol's seed)."""
    s = measurements.setup(2**log2_width, depth, activation, classes, per_class, p.seed)
    return s, measurements.instance_keys(p.seed, s.net.width)


def _stages(steps: int) -> dict[str, int]:
    """Stage name -> GD steps: initialization and, when steps > 0, after GD."""
    return {"init": 0, f"after {steps} steps": steps} if steps else {"init": 0}


def certificate_line(c: measurements.TopComparison) -> str:
    """What the top-eigenvalue panel prints: resolved and paired counts, the bounds against
    the gaps, and the gaps to Theta of the certified values only."""
    k = len(c.hessian)
    resolved = np.asarray(c.resolved, bool)
    ratio = np.asarray(c.bounds) / np.asarray(c.gaps)
    text = (f"{int(resolved.sum())} of the top {k} eigenvalues of H resolved (residual bound "
            f"< 0.1 × gap; bounds {np.min(c.bounds):.1e} to {np.max(c.bounds):.1e}, largest "
            f"bound/gap {np.nanmax(ratio):.1e}); {int(c.paired.sum())} pair with Θ "
            f"(|P_J v|² > {measurements.PAIRED}), the rest belong to B's cluster.")
    top = f" |λ₁(H) − λ₁(Θ)| = {c.top:.2e}." if np.isfinite(c.top) else " λ₁(H) unresolved."
    paired = (f" Mean gap of the paired ones to their Θ eigenvalue: {c.paired_gap:.2e}."
              if np.isfinite(c.paired_gap) else "")
    return text + top + paired


def top_eigenvalues_panel(protocol: ExplorerProtocol | None = None) -> Panel:
    """Fig. 9b interactively: top eigenvalues of H (Lanczos) against those of Theta."""
    p = protocol or ExplorerProtocol.for_profile()

    def compute(log2_width: int, depth: int, activation: str, classes: int, per_class: int,
                steps: int) -> tuple[go.Figure, str]:
        s, keys = _instance(p, log2_width, depth, activation, classes, per_class)
        k = min(p.count, s.y.size)
        c = measurements.top_comparison(s, keys, steps, count=k)
        title = (f"{activation}, depth {depth}, width {2**log2_width}, {classes} classes, "
                 f"{'init' if not steps else f'{steps} GD steps'}")
        message = certificate_line(c)
        return figures.top_eigenvalues(c, title), message

    caption = ("Open circles: the eigenvalues of the training-set NTK Θ_AB (exact). Markers: the "
               "largest eigenvalues of the Hessian of the summed MSE loss (implicitly restarted "
               "Lanczos), with their residual bounds |Hv − λv| as error bars. Dots pair with Θ "
               "(eigenvector mostly in the row space of the Jacobian J), diamonds belong to the "
               "cluster of B, grey crosses are unresolved (bound ≥ 0.1 × gap to a neighbour). "
               "H = A + B with A = JᵀJ, whose nonzero eigenvalues are exactly Θ's (eq. 79); B is "
               "what separates them. With three classes Θ_AB → δ_AB Θ, so Θ's eigenvalues come "
               "in near-copies of three (Fig. 9b).")
    return Panel(_controls(p, steps=0), compute, caption, auto=False, protocol=p)


def moments_panel(protocol: ExplorerProtocol | None = None) -> Panel:
    """Fig. 10a interactively: relative moment differences at init and after GD."""
    p = protocol or ExplorerProtocol.for_profile()

    def compute(log2_width: int, depth: int, activation: str, classes: int, per_class: int,
                steps: int) -> tuple[go.Figure, str]:
        s, keys = _instance(p, log2_width, depth, activation, classes, per_class)
        gaps = {name: measurements.stage_moments(s, keys, n, p.probes)
                for name, n in _stages(steps).items()}
        title = f"{activation}, depth {depth}, width {2**log2_width}: moments of H vs Θ"
        message = "; ".join(f"{name}: Tr B² = {g.trace_b2:.3g}" for name, g in gaps.items())
        return figures.moment_gaps(gaps, title), message

    caption = (f"Hutchinson estimates ({p.probes} probes) of (Tr Hᵐ − Tr Θᵐ)/Tr Θᵐ, with the "
               "difference estimated from the same probes for H and A = JᵀJ (Tr Aᵐ = Tr Θᵐ "
               "exactly). At initialization m = 2 differs by Tr B² = O(1); eq. (82) predicts that "
               "m = 1, 3, 4 agree up to O(1/n) (Tr B = 0 exactly for ReLU and linear nets). "
               "Training drives the residuals f − y, and with them B, to zero.")
    return Panel(_controls(p, p.steps), compute, caption, auto=False, protocol=p)


def density_panel(protocol: ExplorerProtocol | None = None) -> Panel:
    """The SLQ density of H against the eigenvalues of Theta, before and after training."""
    p = protocol or ExplorerProtocol.for_profile()

    def compute(log2_width: int, depth: int, activation: str, classes: int, per_class: int,
                steps: int) -> tuple[go.Figure, str]:
        s, keys = _instance(p, log2_width, depth, activation, classes, per_class)
        densities = {name: measurements.stage_density(s, keys, n, p.krylov, p.density_probes,
                                                     p.points)
                     for name, n in _stages(steps).items()}
        title = f"{activation}, depth {depth}, width {2**log2_width}: spectrum of H"
        return figures.density(densities, title), (
            f"{s.net.num_params} parameters; {s.y.size} NTK eigenvalues")

    caption = ("Stochastic Lanczos quadrature of the Hessian's eigenvalue density (per "
               "parameter, Gaussian-broadened), with the NTK eigenvalues as ticks. Almost all "
               "of the P eigenvalues of H sit in a bulk near zero made by B; Θ's largest "
               "eigenvalues stand out of it, while at moderate width its smaller ones lie "
               "inside the bulk.")
    return Panel(_controls(p, p.steps), compute, caption, auto=False, protocol=p)
