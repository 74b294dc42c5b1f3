"""Notebook 05 panels: Hessian against NTK spectra (App. E.3), built on ``widgets.Panel``."""

from __future__ import annotations

import ipywidgets as W
import jax
import numpy as np

from ..widgets import Panel, log2_slider
from . import experiments as E
from . import figures as plots_spectra
from . import solvers as spectra

SMOOTH_AND_RELU = ("relu", "tanh", "erf", "gelu", "linear")


def _controls(log2_width: int, max_log2_width: int, per_class: int, steps: int
              ) -> dict[str, W.ValueWidget]:
    return {
        "log2_width": log2_slider("log2 width", 4, max_log2_width, log2_width),
        "depth": W.IntSlider(value=2, min=1, max=3, description="depth",
                             continuous_update=False),
        "activation": W.Dropdown(options=SMOOTH_AND_RELU, value="relu",
                                 description="activation"),
        "classes": W.Dropdown(options=(2, 3), value=2, description="classes"),
        "per_class": W.IntSlider(value=per_class, min=2, max=20, description="images/class",
                                 continuous_update=False, style={"description_width": "initial"}),
        "steps": W.IntSlider(value=steps, min=0, max=3000, step=100, description="GD steps",
                             continuous_update=False),
    }


def _network(log2_width, depth, activation, classes, per_class, seed, steps=0):
    s = E.setup(2**log2_width, depth, activation, classes, per_class, seed)
    params = s.net.sample(jax.random.key(seed))
    if steps:
        params = E.trained(s, params, steps, E.learning_rate(s, params))
    return s, params


def _stages(log2_width, depth, activation, classes, per_class, seed, steps):
    """(name, setup, params) at initialization and, when steps > 0, after GD."""
    s, init = _network(log2_width, depth, activation, classes, per_class, seed)
    yield "init", s, init
    if steps:
        yield f"after {steps} steps", s, E.trained(s, init, steps, E.learning_rate(s, init))


def top_eigenvalues_panel(log2_width: int = 8, max_log2_width: int = 11, per_class: int = 5,
                          count: int = 10, seed: int = 0) -> Panel:
    """Fig. 9b interactively: top eigenvalues of H (Lanczos) against those of Theta."""

    def compute(log2_width, depth, activation, classes, per_class, steps):
        s, params = _network(log2_width, depth, activation, classes, per_class, seed, steps)
        k = min(count, s.y.size)
        gaps = E.eigenvalue_gaps(s, params, count=k, krylov=k + 20)
        title = (f"{activation}, depth {depth}, width {2**log2_width}, {classes} classes, "
                 f"{'init' if not steps else f'{steps} GD steps'}")
        message = (f"|λ₁(H) − λ₁(Θ)| = {gaps['top']:.2e}; mean |λᵢ(H) − λᵢ(Θ)| over the top "
                   f"{k}: {gaps['mean']:.2e}; largest Lanczos residual {gaps['bounds'].max():.1e}")
        return plots_spectra.top_eigenvalues(gaps["hessian"], gaps["theta"], title,
                                             gaps["bounds"]), message

    controls = _controls(log2_width, max_log2_width, per_class, steps=0)
    caption = ("Open circles: the eigenvalues of the training-set NTK Θ_AB (exact). Dots: the "
               "largest eigenvalues of the Hessian of the summed MSE loss, by Lanczos. H = A + B "
               "with A = JᵀJ, whose nonzero eigenvalues are exactly Θ's (eq. 79); B is what "
               "separates them, and its eigenvalues shrink like n^{-1/2}. With three classes "
               "Θ_AB → δ_AB Θ, so the eigenvalues come in near-copies of three (Fig. 9b).")
    return Panel(controls, compute, caption, auto=False)


def moments_panel(log2_width: int = 7, max_log2_width: int = 10, per_class: int = 5,
                  probes: int = 100, seed: int = 0) -> Panel:
    """Fig. 10a interactively: relative moment differences at init and after GD."""

    def compute(log2_width, depth, activation, classes, per_class, steps):
        rows = []
        for name, s, params in _stages(log2_width, depth, activation, classes, per_class,
                                       seed, steps):
            g = E.moment_gaps(s, params, probes, seed)
            rows.append({"name": name, "relative": g["relative"],
                         "relative_se": g["relative_se"], "trace_b2": g["trace_b2"]})
        title = f"{activation}, depth {depth}, width {2**log2_width}: moments of H vs Θ"
        message = "; ".join(f"{r['name']}: Tr B² = {r['trace_b2']:.3g}" for r in rows)
        return plots_spectra.moment_gaps(rows, title), message

    controls = _controls(log2_width, max_log2_width, per_class, steps=500)
    caption = (f"Hutchinson estimates ({probes} probes) of (Tr Hᵐ − Tr Θᵐ)/Tr Θᵐ, with the "
               "difference estimated from the same probes for H and A = JᵀJ (Tr Aᵐ = Tr Θᵐ "
               "exactly). At initialization m = 2 differs by Tr B² = O(1) while m = 1, 3, 4 "
               "agree up to O(1/n) (eq. 82; Tr B = 0 exactly for ReLU and linear nets). "
               "Training drives the residuals f − y, and with them B, to zero.")
    return Panel(controls, compute, caption, auto=False)


def density_panel(log2_width: int = 7, max_log2_width: int = 10, per_class: int = 5,
                  krylov: int = 40, seed: int = 0) -> Panel:
    """The SLQ density of H against the eigenvalues of Theta, before and after training."""

    def compute(log2_width, depth, activation, classes, per_class, steps):
        grids, values, thetas, names = [], [], [], []
        for name, s, params in _stages(log2_width, depth, activation, classes, per_class,
                                       seed, steps):
            theta = spectra.ntk_eigenvalues(s.net, params, s.x)
            grid = np.linspace(-0.25 * theta[0], 1.1 * theta[0], 300)
            d = spectra.spectral_density(s.net, params, s.x, s.y, grid, krylov=krylov,
                                         probes=2, seed=seed)
            grids.append(grid), values.append(d.density), thetas.append(theta)
            names.append(name)
        title = f"{activation}, depth {depth}, width {2**log2_width}: spectrum of H"
        return plots_spectra.density(grids, values, thetas, names, title), (
            f"{s.net.num_params} parameters; {len(theta)} NTK eigenvalues")

    controls = _controls(log2_width, max_log2_width, per_class, steps=500)
    caption = ("Stochastic Lanczos quadrature of the Hessian's eigenvalue density (per "
               "parameter, Gaussian-broadened), with the NTK eigenvalues as ticks. Almost all "
               "of the P eigenvalues of H sit in a bulk near zero made by B; the few outliers "
               "are the eigenvalues of Θ.")
    return Panel(controls, compute, caption, auto=False)
