"""Sec. 1 (notebook 00): f(x) at initialization against the infinite-width Gaussian."""

from .experiments import (
    InitDistribution,
    KurtosisTable,
    PriorProtocol,
    default_input,
    init_distribution,
    kurtosis_table,
    one_layer_kurtosis,
)

__all__ = [
    "InitDistribution",
    "KurtosisTable",
    "PriorProtocol",
    "default_input",
    "init_distribution",
    "kurtosis_table",
    "one_layer_kurtosis",
]
