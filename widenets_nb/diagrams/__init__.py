"""Feynman diagrams of deep linear networks (Sec. 4, App. B): enumeration, double-line
graphs, exact correlators at any width, drawings."""

from .exact import ExactCorrelator, exact_correlator, layer_types
from .feynman import Component, Diagram, DoubleLineEdge, feynman_diagrams, leading_diagrams

__all__ = [
    "Component",
    "Diagram",
    "DoubleLineEdge",
    "ExactCorrelator",
    "exact_correlator",
    "feynman_diagrams",
    "layer_types",
    "leading_diagrams",
]
