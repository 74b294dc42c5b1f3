"""Notebook 03 panels: the NTK during GD/SGD training (Fig. 1a, Thm 10-11, App. E.2).

Each panel wires controls to ``experiments`` (cached on disk, and remembered by the panel)
and a ``figures`` builder; training panels compute on "Run", one width at a time, drawing
the widths done so far after each.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator

import ipywidgets as W
import plotly.graph_objects as go

from ..nets import ACTIVATIONS
from ..paper import SLOPES
from ..results import Scaling
from ..widgets import Panel, Update, by_width, log2_slider
from . import figures
from .experiments import (
    TRAIN_BLOCK,
    DriftProtocol,
    DriftResult,
    LimitProtocol,
    LinearityProtocol,
    infinite_width_limit,
    kernel_drift,
    limit_theory,
    step_linearity,
)

_STYLE = {"description_width": "initial"}

#: Where the drift panels' sliders start at most: one cached training block of
#: initializations and widths up to 1024, so a first Run takes seconds; the sliders reach
#: the protocol's full sweep (whose results ``Fig1a`` reports).
START_INITS, START_MAX_WIDTH = TRAIN_BLOCK, 1024


def _drift_controls(protocol: DriftProtocol) -> dict[str, W.ValueWidget]:
    low, high = (max(1, w.bit_length() - 1)
                 for w in (min(protocol.widths), min(max(protocol.widths), START_MAX_WIDTH)))
    return {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=protocol.activations[0],
                                 description="activation"),
        "depth": W.IntSlider(value=protocol.depth, min=1, max=4, description="depth"),
        "optimizer": W.ToggleButtons(options=["gd", "sgd"], value="gd", description="optimizer"),
        "batch_size": W.IntSlider(value=protocol.batch_size, min=1,
                                  max=2 * protocol.samples_per_class, description="SGD batch"),
        "learning_rate": W.FloatLogSlider(value=protocol.learning_rate, base=10, min=-2, max=2,
                                          description="learning rate", style=_STYLE),
        "steps": W.IntSlider(value=protocol.steps, min=16, max=4096, step=16,
                             description="steps"),
        "log2_min_width": log2_slider("log2 min width", 3, 12, low),
        "log2_max_width": log2_slider("log2 max width", 4, 13, high),
        "inits": W.IntSlider(value=min(protocol.inits, START_INITS), min=4, max=128,
                             description="inits"),
    }


@functools.lru_cache(maxsize=32)  # the drift, drift-step and variance panels share runs
def _drift(base: DriftProtocol, progress: bool, widths: tuple[int, ...], activation: str,
           depth: int, optimizer: str, batch_size: int, learning_rate: float, steps: int,
           inits: int) -> DriftResult:
    """``kernel_drift`` of ``base`` with the controls' values at ``widths``."""
    protocol = dataclasses.replace(
        base, activations=(activation,), optimizers=(optimizer,), depth=depth,
        batch_size=batch_size, learning_rate=learning_rate, steps=steps, widths=widths,
        inits=inits)
    return kernel_drift(protocol, progress=progress)


def _drift_updates(base: DriftProtocol, progress: bool, draw: Callable[[DriftResult], go.Figure],
                   log2_min_width: int, log2_max_width: int, **values) -> Iterator[Update]:
    """The drift panels' compute: train one more width per update and ``draw`` the
    ``kernel_drift`` of the widths done so far."""
    if log2_max_width <= log2_min_width:
        raise ValueError("the largest width must exceed the smallest; move the width sliders.")

    def run(widths: tuple[int, ...]) -> tuple[go.Figure, str, tuple[Scaling, ...]]:
        result = _drift(base, progress, widths, **values)
        return draw(result), _summary(result), result.scalings

    return by_width(tuple(2**k for k in range(log2_min_width, log2_max_width + 1)), run)


def _summary(result: DriftResult) -> str:
    fit = next(iter(result.drift.values()))
    final = result.loss[0, 0, :, :, -1].mean(1)
    return (f"{fit.summary()}; Jacot et al.'s bound: {SLOPES['fig1a.jacot_bound'].value:+g}; "
            f"mean final training loss per width {', '.join(f'{v:.3g}' for v in final)}")


def drift_panel(base: DriftProtocol, progress: bool = False) -> Panel:
    """Fig. 1a for one activation/optimizer: mean |Θ_T - Θ_0| against width with a fit."""

    def compute(**values) -> Iterator[Update]:
        name = f"{values['activation']}/{values['optimizer']}"
        return _drift_updates(base, progress,
                              lambda r: figures.drift(list(r.drift.values()), [name]), **values)

    caption = ("Each point averages |Θ_t(x, x') - Θ_0(x, x')| after all steps over "
               "initializations and over a fixed set of randomly chosen off-diagonal "
               "training-set components (the paper uses one; more components only cut the "
               "Monte Carlo noise). The solid line is the weighted log-log fit (exponent and "
               "95% CI in the legend; the status names its method), the dashed line the "
               "predicted n^-1; the grey "
               "lines are n^-1 (Lemma 1 / Thm 11) and n^-1/2 (Jacot et al.).")
    return Panel(_drift_controls(base), compute, caption, auto=False, protocol=base)


def drift_step_panel(base: DriftProtocol, progress: bool = False) -> Panel:
    """The drift against training step for every width (same runs as ``drift_panel``)."""

    def compute(**values) -> Iterator[Update]:
        return _drift_updates(base, progress, figures.drift_vs_step, **values)

    caption = ("The drift grows during training and saturates once the loss has converged; "
               "at every step, doubling the width halves it.")
    return Panel(_drift_controls(base), compute, caption, auto=False, protocol=base)


def variance_panel(base: DriftProtocol, progress: bool = False) -> Panel:
    """Thm 10-11: Var[Θ_0] ~ n^-1 and Var[Θ_t - Θ_0] ~ n^-2."""

    def draw(result: DriftResult) -> go.Figure:
        return figures.variances([next(iter(result.variance_init.values())),
                                  next(iter(result.variance_drift.values()))])

    def compute(**values) -> Iterator[Update]:
        return _drift_updates(base, progress, draw, **values)

    caption = ("One component, over initializations: Θ_0 fluctuates by n^-1/2 (variance "
               "n^-1, Thm 10), while the change during training fluctuates by only n^-1 "
               "(variance n^-2, Thm 11): the kernel's motion is a deterministic O(1/n) drift "
               "plus smaller noise.")
    return Panel(_drift_controls(base), compute, caption, auto=False, protocol=base)


def linearity_panel(base: LinearityProtocol, progress: bool = False) -> Panel:
    """App. E.2: the non-linear part of one GD step against width, for three learning
    rates four-fold apart."""

    def compute(activation: str, depth: int, log2_eta: int) -> Iterator[Update]:
        etas = tuple(2.0**k for k in (log2_eta - 2, log2_eta, log2_eta + 2))
        protocol = dataclasses.replace(base, activation=activation, depth=depth, etas=etas)

        def run(widths: tuple[int, ...]) -> tuple[go.Figure, str, tuple[Scaling, ...]]:
            result = step_linearity(dataclasses.replace(protocol, widths=widths),
                                    progress=progress)
            ratio = (result.remainder / result.step).mean(-1)[:, -1]
            return figures.linearity(result.fits), (
                f"at width {widths[-1]} the non-linear part is "
                + ", ".join(f"{r:.1e}" for r in ratio) + " of the step for η = "
                + ", ".join(f"{e:g}" for e in etas)), result.fits

        return by_width(protocol.widths, run)

    controls = {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=base.activation,
                                 description="activation"),
        "depth": W.IntSlider(value=base.depth, min=1, max=3, description="depth"),
        "log2_eta": W.IntSlider(value=2, min=-2, max=5, description="log2 η (middle)",
                                style=_STYLE),
    }
    caption = ("One GD step from initialization: f_1 - f_0 = -η Θ_0 (f_0 - y)/N + r. The "
               "remainder r (the η², η³ terms of App. E.4.2) falls like 1/n for every "
               "learning rate, so at large width a step is linear in η (Thm 12).")
    return Panel(controls, compute, caption, auto=False, protocol=base)


def limit_panel(base: LimitProtocol, progress: bool = False) -> Panel:
    """E[Θ_0] against the analytic infinite-width NTK for the protocol's activations."""

    def compute(depth: int) -> Iterator[Update]:
        predicted = limit_theory(dataclasses.replace(base, depth=depth))
        theory = "; 1/n theory a_1 = " + ", ".join(f"{a}: {c:+.4f}" for a, c in predicted.items())

        def run(widths: tuple[int, ...]) -> tuple[go.Figure, str, tuple[Scaling, ...]]:
            result = infinite_width_limit(dataclasses.replace(base, depth=depth, widths=widths),
                                          progress=progress)
            return figures.limit(result.fits, predicted=predicted), "Θ_∞ = " + ", ".join(
                f"{a}: {e:.5f}" for a, e in zip(base.activations, result.exact, strict=True)
            ) + theory, result.fits

        return by_width(base.widths, run)

    controls = {"depth": W.IntSlider(value=base.depth, min=2, max=4, description="depth")}
    caption = ("The mean over initializations of Θ_0(x, x') differs from the infinite-width "
               "kernel (ReLU arc-cosine recursion, erf closed form) by O(1/n); widths where the "
               "difference is below two standard errors are unresolved and left out of the fit.")
    return Panel(controls, compute, caption, auto=False, protocol=base)
