"""Sec. 3, App. D-E, Fig. 1a (notebook 03): the NTK during gradient descent."""

from .experiments import (
    DriftProtocol,
    DriftResult,
    Fig1a,
    LimitProtocol,
    LimitResult,
    LinearityProtocol,
    LinearityResult,
    fig1a,
    infinite_width_limit,
    kernel_drift,
    step_linearity,
)

__all__ = [
    "DriftProtocol",
    "DriftResult",
    "Fig1a",
    "LimitProtocol",
    "LimitResult",
    "LinearityProtocol",
    "LinearityResult",
    "fig1a",
    "infinite_width_limit",
    "kernel_drift",
    "step_linearity",
]
