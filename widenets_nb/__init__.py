"""widenets: an interactive laboratory for the theory of wide neural networks.

The public API, as a flat list of re-exports.
"""

from . import config  # first: applies WIDENETS_X64 before any array exists
from ._version import __version__
from .cache import cache_key, cached
from .corrections import kernel_correction, late_time, theta_late
from .correlators import NAMED, Correlator, Factor, parse
from .data import Dataset, load_mnist
from .diagrams import Diagram, ExactCorrelator, exact_correlator, feynman_diagrams
from .dynamics import DivergenceError, TrainConfig, Trajectory, train, train_many
from .kernels import Kernels, infinite_width
from .nets import ACTIVATIONS, MLP, Network, forward, init_many, outputs_at_init
from .ntk import ntk, ntk_entry, ntk_vp
from .operators import Tower, o3_dot, o4_dot, reduce_to_span, tower
from .prior import InitDistribution, init_distribution
from .spectra import (
    Moments,
    SpectralDensity,
    TopEigenvalues,
    hutchinson_moments,
    ntk_eigenvalues,
    spectral_density,
    top_eigenvalues,
)

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "NAMED",
    "Correlator",
    "Dataset",
    "Diagram",
    "DivergenceError",
    "ExactCorrelator",
    "Factor",
    "InitDistribution",
    "Kernels",
    "Moments",
    "Network",
    "SpectralDensity",
    "TopEigenvalues",
    "Tower",
    "TrainConfig",
    "Trajectory",
    "__version__",
    "cache_key",
    "cached",
    "config",
    "exact_correlator",
    "feynman_diagrams",
    "forward",
    "hutchinson_moments",
    "infinite_width",
    "init_distribution",
    "init_many",
    "kernel_correction",
    "late_time",
    "load_mnist",
    "ntk",
    "ntk_eigenvalues",
    "ntk_entry",
    "ntk_vp",
    "o3_dot",
    "o4_dot",
    "outputs_at_init",
    "parse",
    "reduce_to_span",
    "spectral_density",
    "theta_late",
    "top_eigenvalues",
    "tower",
    "train",
    "train_many",
]
