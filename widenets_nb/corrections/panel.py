"""Notebook 04 panels: one training run against its O(1/n) prediction, and errors vs width."""

from __future__ import annotations

import dataclasses
import math

import ipywidgets as W

from ..plots import scaling_figure
from ..widgets import Panel, Update, log2_slider
from . import experiments, figures

ACTIVATIONS: tuple[str, ...] = ("tanh", "erf", "gelu")


def trajectory_panel(protocol: experiments.TrajectoryProtocol | None = None,
                     max_log2_width: int = 12) -> Panel:
    """Figs. 1b-c / 11: f at a training and a test image and one Theta component during GD,
    actual (solid) against the constant-kernel and O(1/n) predictions (dashed).

    The controls start at ``protocol`` (default: the active profile's); its other fields
    (initialization, data) stay fixed. The operators are cached per initialization and every
    run per setting (``experiments.trajectory_stages``), so moving back to a setting is
    instant; a new width costs one tower and one training run. The run is drawn with the
    constant-kernel predictions first, then with the O(1/n) ones.
    """
    protocol = protocol or experiments.TrajectoryProtocol.for_profile()
    data = protocol.data()

    def compute(log2_width: int, learning_rate: float, log10_steps: int, activation: str,
                train_image: int, test_image: int, theta_column: str):
        run = dataclasses.replace(protocol, activation=activation, width=2**log2_width,
                                  steps=10**log10_steps, learning_rate=learning_rate)
        title = f"{activation}, width {run.width}, learning rate {learning_rate:g}"
        for done, comparison in enumerate(experiments.trajectory_stages(run), 1):
            fig = figures.trajectories(comparison.trace(train_image, test_image, theta_column),
                                       title)
            yield Update(fig, comparison.summary(), done, 2, "stages")

    controls = {
        "log2_width": log2_slider("log2 width", 6, max_log2_width,
                                  protocol.width.bit_length() - 1),
        "learning_rate": W.FloatSlider(value=protocol.learning_rate, min=0.02, max=0.8,
                                       step=0.02, description="learning rate",
                                       continuous_update=False),
        "log10_steps": W.IntSlider(value=round(math.log10(protocol.steps)), min=1, max=4,
                                   description="log10 steps", continuous_update=False),
        "activation": W.Dropdown(options=list(ACTIVATIONS), value=protocol.activation,
                                 description="activation"),
        "train_image": W.IntSlider(value=0, min=0, max=len(data.y) - 1,
                                   description="train image", continuous_update=False),
        "test_image": W.IntSlider(value=0, min=0, max=len(data.x_test) - 1,
                                  description="test image", continuous_update=False),
        "theta_column": W.Dropdown(options=list(experiments.THETA_COLUMNS), value="last",
                                   description="Θ column"),
    }
    caption = ("Solid: the network trained by full-batch GD on the summed MSE. Dashed: "
               "predictions from the same initialization - the constant-kernel dynamics "
               "(the infinite-width limit with this network's Θ_0) and the O(1/n) dynamics "
               "(eq. 101-103 in continuous time t = η·step, and the discrete GD recursion of "
               "eq. 106-122). The O(1/n) GD recursion follows the run to about 1/n²; the "
               "gradient-flow version gets the kernel right but f carries an O(η) "
               "discretization error that does not shrink with width.")
    return Panel(controls, compute, caption, protocol=protocol)


def error_panel(sweep: experiments.Fig11) -> Panel:
    """Fig. 11 errors against width: the mean over initializations of each prediction's
    largest error, its fitted slope (``Scaling``), and the n^-1 and n^-2 guides."""

    def compute(activation: str, quantity: str):
        view = sweep.view(activation, quantity)
        fig = scaling_figure(view, f"{activation}: error of each prediction ({quantity}) "
                             "vs width", y_title=experiments.ERROR,
                             names=[experiments.PREDICTIONS[s.labels["prediction"]]
                                    for s in view], guides=experiments.GUIDES)
        return fig, "<br>".join(s.summary() for s in view), view

    controls = {
        "activation": W.Dropdown(options=list(sweep.protocol.activations),
                                 description="activation"),
        "quantity": W.Dropdown(options=list(experiments.QUANTITIES), value="theta",
                               description="quantity"),
    }
    caption = (f"{sweep.protocol.inits} initializations per width, {sweep.protocol.steps} "
               "GD steps. Error bars: one standard error over initializations; the legend "
               "gives each fitted slope with its 95% interval (method in the text below, "
               "'not fitted' where the samples carry none); dashed: the "
               "predicted exponent of the GD predictions (constant kernel n^"
               f"{experiments.PREDICTED['leading_discrete']:+g}, O(1/n) recursion n^"
               f"{experiments.PREDICTED['corrected_discrete']:+g}); grey: reference slopes.")
    return Panel(controls, compute, caption, protocol=sweep.protocol)
