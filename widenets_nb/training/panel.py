"""Notebook 03 panels: the NTK during GD/SGD training (Fig. 1a, Thm 10-11, App. E.2).

Each panel wires controls to ``training_experiments`` (cached, so revisiting a setting is
instant) and a ``plots_training`` figure; training panels recompute on "Run".
"""

from __future__ import annotations

import dataclasses

import ipywidgets as W

from ..nets import ACTIVATIONS
from ..widgets import Panel, log2_slider
from . import figures as plots_training
from .experiments import DriftSetup, infinite_width_limit, kernel_drift, step_linearity

_STYLE = {"description_width": "initial"}


def _drift_controls(setup: DriftSetup) -> dict[str, W.ValueWidget]:
    low, high = (max(1, w.bit_length() - 1) for w in (min(setup.widths), max(setup.widths)))
    return {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=setup.activations[0],
                                 description="activation"),
        "depth": W.IntSlider(value=setup.depth, min=1, max=4, description="depth"),
        "optimizer": W.ToggleButtons(options=["gd", "sgd"], value="gd", description="optimizer"),
        "batch_size": W.IntSlider(value=setup.batch_size, min=1,
                                  max=2 * setup.samples_per_class, description="SGD batch"),
        "learning_rate": W.FloatLogSlider(value=setup.learning_rate, base=10, min=-2, max=2,
                                          description="learning rate", style=_STYLE),
        "steps": W.IntSlider(value=setup.steps, min=16, max=4096, step=16, description="steps"),
        "log2_min_width": log2_slider("log2 min width", 3, 12, low),
        "log2_max_width": log2_slider("log2 max width", 4, 13, high),
        "inits": W.IntSlider(value=setup.inits, min=4, max=128, description="inits"),
    }


def _setup(base: DriftSetup, activation: str, depth: int, optimizer: str, batch_size: int,
           learning_rate: float, steps: int, log2_min_width: int, log2_max_width: int,
           inits: int) -> DriftSetup:
    if log2_max_width <= log2_min_width:
        raise ValueError("the largest width must exceed the smallest; move the width sliders.")
    widths = tuple(2**k for k in range(log2_min_width, log2_max_width + 1))
    return dataclasses.replace(base, activations=(activation,), optimizers=(optimizer,),
                               depth=depth, batch_size=batch_size, learning_rate=learning_rate,
                               steps=steps, widths=widths, inits=inits)


def _summary(result) -> str:
    a, o = result.setup.activations[0], result.setup.optimizers[0]
    fit = result.drift[f"{a}/{o}"]
    text = "unresolved" if fit is None else (
        f"{fit.slope:+.2f}, 95% CI [{fit.slope_ci[0]:+.2f}, {fit.slope_ci[1]:+.2f}]")
    final = result.loss[0, 0, :, :, -1].mean(1)
    return (f"drift exponent {text} (paper: -1; Jacot et al.'s bound: -1/2); mean final "
            f"training loss per width {', '.join(f'{v:.3g}' for v in final)}")


def drift_panel(base: DriftSetup, progress: bool = False) -> Panel:
    """Fig. 1a for one activation/optimizer: mean |Theta_T - Theta_0| vs width with a fit."""

    def compute(**values):
        result = kernel_drift(_setup(base, **values), progress=progress)
        name = f"{values['activation']}/{values['optimizer']}"
        fig = plots_training.drift_vs_width(
            result.setup.widths, {name: result.mean_drift()[0, 0, :, :, -1]}, result.drift)
        return fig, _summary(result)

    caption = ("Each point averages |Θ_t(x, x') - Θ_0(x, x')| after all steps over "
               "initializations and over a fixed set of randomly chosen off-diagonal "
               "training-set components (the paper uses one; more components only cut the "
               "Monte Carlo noise). The dashed "
               "line is the weighted log-log fit (exponent and bootstrap CI in the legend); the "
               "dotted lines are n^-1 (Lemma 1 / Thm 11) and n^-1/2 (Jacot et al.).")
    return Panel(_drift_controls(base), compute, caption, auto=False)


def drift_step_panel(base: DriftSetup, progress: bool = False) -> Panel:
    """The drift vs training step for every width (same runs as ``drift_panel``)."""

    def compute(**values):
        result = kernel_drift(_setup(base, **values), progress=progress)
        fig = plots_training.drift_vs_step(result.steps, result.setup.widths,
                                           result.mean_drift()[0, 0])
        return fig, _summary(result)

    caption = ("The drift grows during training and saturates once the loss has converged; "
               "at every step, doubling the width halves it.")
    return Panel(_drift_controls(base), compute, caption, auto=False)


def variance_panel(base: DriftSetup, progress: bool = False) -> Panel:
    """Thm 10-11: Var[Theta_0] ~ n^-1 and Var[Theta_t - Theta_0] ~ n^-2."""

    def compute(**values):
        result = kernel_drift(_setup(base, **values), progress=progress)
        a, o = result.setup.activations[0], result.setup.optimizers[0]
        theta = result.theta[0, 0, :, :, 0]
        fig = plots_training.variance_scaling(
            result.setup.widths, theta[:, :, 0], theta[:, :, -1] - theta[:, :, 0],
            result.variance_init[a], result.variance_drift[f"{a}/{o}"])
        return fig, _summary(result)

    caption = ("One component, over initializations: Θ_0 fluctuates by n^-1/2 (variance "
               "n^-1, Thm 10), while the change during training fluctuates by only n^-1 "
               "(variance n^-2, Thm 11): the kernel's motion is a deterministic O(1/n) drift "
               "plus smaller noise.")
    return Panel(_drift_controls(base), compute, caption, auto=False)


def linearity_panel(widths: tuple[int, ...], inits: int, samples_per_class: int,
                    progress: bool = False) -> Panel:
    """App. E.2: the non-linear part of one GD step vs width, for three learning rates."""

    def compute(activation: str, depth: int, log2_eta: int):
        etas = tuple(2.0**k for k in (log2_eta - 2, log2_eta, log2_eta + 2))
        result = step_linearity(activation, depth, widths, etas, inits, samples_per_class,
                                progress=progress)
        fig = plots_training.step_linearity(result.widths, result.etas, result.remainder,
                                            result.fits)
        ratio = (result.remainder / result.step).mean(-1)[:, -1]
        return fig, ("at the largest width the non-linear part is "
                     + ", ".join(f"{r:.1e}" for r in ratio) + " of the step for η = "
                     + ", ".join(f"{e:g}" for e in etas))

    controls = {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value="tanh",
                                 description="activation"),
        "depth": W.IntSlider(value=1, min=1, max=3, description="depth"),
        "log2_eta": W.IntSlider(value=2, min=-2, max=5, description="log2 η (middle)",
                                style=_STYLE),
    }
    caption = ("One GD step from initialization: f_1 - f_0 = -η Θ_0 (f_0 - y)/N + r. The "
               "remainder r (the η², η³ terms of App. E.4.2) falls like 1/n for every "
               "learning rate, so at large width a step is linear in η (Thm 12).")
    return Panel(controls, compute, caption, auto=False)


def limit_panel(widths: tuple[int, ...], inits: int, progress: bool = False) -> Panel:
    """E[Theta_0] vs the analytic infinite-width NTK for ReLU and erf."""

    def compute(depth: int):
        result = infinite_width_limit(("relu", "erf"), depth, widths, inits, progress=progress)
        fig = plots_training.infinite_width_limit(
            result.widths, dict(zip(result.activations, result.samples, strict=True)),
            dict(zip(result.activations, result.exact, strict=True)), result.fits)
        return fig, "Θ_∞ = " + ", ".join(
            f"{a}: {e:.5f}" for a, e in zip(result.activations, result.exact, strict=True))

    controls = {"depth": W.IntSlider(value=2, min=2, max=4, description="depth")}
    caption = ("The mean over initializations of Θ_0(x, x') differs from the infinite-width "
               "kernel (ReLU arc-cosine recursion, erf closed form) by O(1/n); widths where the "
               "difference is below two standard errors are unresolved and left out of the fit.")
    return Panel(controls, compute, caption, auto=False)
