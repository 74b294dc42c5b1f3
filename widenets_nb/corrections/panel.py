"""Notebook 04 panels: one training run against its O(1/n) prediction, and errors vs width."""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from ..widgets import Panel, log2_slider
from . import experiments as ce
from . import figures as plots_corrections

ACTIVATIONS: tuple[str, ...] = ("tanh", "erf", "gelu")


def trajectory_panel(data: ce.Data | None = None, log2_width: int = 10, log10_steps: int = 3,
                     seed: int = 0, max_log2_width: int = 12) -> Panel:
    """Figs. 1b-c / 11: f at a training and a test image and one Theta component during GD,
    actual (solid) against the constant-kernel and O(1/n) predictions (dashed).

    The operators are cached per initialization and every run per setting (``cache``), so
    moving back to a setting is instant; a new width costs one tower and one training run.
    """
    data = data or ce.mnist()
    n = len(data.y)

    def compute(log2_width: int, learning_rate: float, log10_steps: int, activation: str,
                train_image: int, test_image: int, theta_column: str):
        width, steps = 2**log2_width, 10**log10_steps
        c = ce.compare(activation, width, seed, learning_rate, steps, data=data)
        col = 0 if theta_column == "first" else 1
        actual = {"f_train": c.actual_f[:, train_image], "f_test": c.actual_f[:, n + test_image],
                  "theta": c.actual_theta[:, train_image, col]}
        predicted = {p: {"f_train": v["f"][:, train_image], "f_test": v["f"][:, n + test_image],
                         "theta": v["theta"][:, train_image, col]}
                     for p, v in c.predictions.items()}
        a = 0 if col == 0 else n - 1
        labels = {"f_train": f"f(training image {train_image})",
                  "f_test": f"f(test image {test_image})",
                  "theta": f"Θ(training image {train_image}, training image {a})"}
        fig = plots_corrections.trajectories(
            c.steps, actual, predicted, labels,
            f"{activation}, width {width}, learning rate {learning_rate:g}")
        errs = c.errors()
        message = "max error over steps and inputs (f train / f test / Θ): " + "; ".join(
            f"{plots_corrections.STYLE[p][0]} {e['f_train']:.1e} / {e['f_test']:.1e} / "
            f"{e['theta']:.1e}" for p, e in errs.items())
        return fig, message

    controls = {
        "log2_width": log2_slider("log2 width", 6, max_log2_width, log2_width),
        "learning_rate": W.FloatSlider(value=0.1, min=0.02, max=0.8, step=0.02,
                                       description="learning rate", continuous_update=False),
        "log10_steps": W.IntSlider(value=log10_steps, min=1, max=4, description="log10 steps",
                                   continuous_update=False),
        "activation": W.Dropdown(options=list(ACTIVATIONS), value="tanh",
                                 description="activation"),
        "train_image": W.IntSlider(value=0, min=0, max=n - 1, description="train image",
                                   continuous_update=False),
        "test_image": W.IntSlider(value=0, min=0, max=len(data.x_test) - 1,
                                  description="test image", continuous_update=False),
        "theta_column": W.Dropdown(options=["first", "last"], value="last",
                                   description="Θ column"),
    }
    caption = ("Solid: the network trained by full-batch GD on the summed MSE. Dashed: "
               "predictions from the same initialization - the constant-kernel dynamics "
               "(the infinite-width limit with this network's Θ_0) and the O(1/n) dynamics "
               "(eq. 101-103 in continuous time t = η·step, and the discrete GD recursion of "
               "eq. 106-122). The O(1/n) GD recursion follows the run to about 1/n²; the "
               "gradient-flow version gets the kernel right but f carries an O(η) "
               "discretization error that does not shrink with width.")
    return Panel(controls, compute, caption)


def error_figure(widths: tuple[int, ...], errors: dict, fits: dict, quantity: str,
                 activation: str):
    """The error-vs-width plot of one quantity from ``corrections_experiments`` results."""
    slopes = {p: fits[p][quantity]["slope"] for p in errors}
    return plots_corrections.errors_vs_width(
        widths, {p: np.asarray(errors[p][quantity]) for p in errors}, slopes,
        f"{activation}: error of each prediction ({quantity}) vs width")
