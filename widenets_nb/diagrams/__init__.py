"""Feynman diagrams of deep linear networks (Sec. 4, App. B): enumeration, double-line
graphs, exact correlators at any width, drawings."""

from .exact import ExactCorrelator, exact_correlator, layer_types

__all__ = ["ExactCorrelator", "exact_correlator", "layer_types"]
