"""Sec. 3.1, App. E.4, Figs. 1b-c, 11 (notebook 04): O(1/n) corrections to training."""

from .closed_forms import kernel_correction, late_time, theta_late
from .experiments import Fig11, Fig11Protocol, TrajectoryProtocol

__all__ = ["Fig11", "Fig11Protocol", "TrajectoryProtocol", "kernel_correction", "late_time",
           "theta_late"]
