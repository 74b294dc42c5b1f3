"""App. E.3, Figs. 9-10 (notebook 05): Hessian and NTK spectra."""

from .experiments import (
    Fig9,
    Fig10,
    certificate_table,
    gap_scalings,
    rms_scalings,
    slope_table,
)
from .measurements import eq79
from .protocols import (
    DensityProtocol,
    ExplorerProtocol,
    GapProtocol,
    MomentProtocol,
    RmsProtocol,
    TopProtocol,
)
from .solvers import (
    Moments,
    SpectralDensity,
    TopEigenvalues,
    hutchinson_moments,
    ntk_eigenvalues,
    spectral_density,
    top_eigenvalues,
)

__all__ = [
    "DensityProtocol",
    "ExplorerProtocol",
    "Fig9",
    "Fig10",
    "GapProtocol",
    "MomentProtocol",
    "Moments",
    "RmsProtocol",
    "SpectralDensity",
    "TopEigenvalues",
    "TopProtocol",
    "certificate_table",
    "eq79",
    "gap_scalings",
    "hutchinson_moments",
    "ntk_eigenvalues",
    "rms_scalings",
    "slope_table",
    "spectral_density",
    "top_eigenvalues",
]
