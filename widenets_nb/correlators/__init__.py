"""Correlation functions of wide networks (Sec. 2): notation, cluster graphs, estimates."""

from .notation import NAMED, Correlator, Factor, parse

__all__ = ["NAMED", "Correlator", "Factor", "parse"]
