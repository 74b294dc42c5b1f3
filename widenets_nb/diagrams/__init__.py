"""Feynman diagrams of deep linear networks (Sec. 4, App. B): enumeration, double-line
graphs, exact correlators at any width, drawings."""

from .exact import (
    ExactCorrelator,
    ExactVariance,
    exact,
    exact_correlator,
    exact_variance,
    layer_types,
)
from .feynman import Component, Diagram, DoubleLineEdge, feynman_diagrams, leading_diagrams

__all__ = [
    "Component",
    "Diagram",
    "DoubleLineEdge",
    "ExactCorrelator",
    "ExactVariance",
    "exact",
    "exact_correlator",
    "exact_variance",
    "feynman_diagrams",
    "layer_types",
    "leading_diagrams",
]
