"""Sec. 1 (notebook 00): f(x) at initialization against the infinite-width Gaussian."""

from .experiments import InitDistribution, init_distribution

__all__ = ["InitDistribution", "init_distribution"]
