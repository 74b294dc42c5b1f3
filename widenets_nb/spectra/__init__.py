"""App. E.3, Figs. 9-10 (notebook 05): Hessian and NTK spectra."""

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
    "Moments",
    "SpectralDensity",
    "TopEigenvalues",
    "hutchinson_moments",
    "ntk_eigenvalues",
    "spectral_density",
    "top_eigenvalues",
]
