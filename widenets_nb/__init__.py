"""widenets: an interactive laboratory for the theory of wide neural networks.

The public API, as a flat list of re-exports.
"""

from . import config
from ._version import __version__
from .cache import cache_key, cached
from .data import Dataset, load_mnist
from .kernels import Kernels, infinite_width
from .nets import ACTIVATIONS, MLP, Network, forward, init_many, outputs_at_init
from .prior import InitDistribution, init_distribution

# correlators: re-exports
from .correlators import NAMED, Correlator, Factor, parse  # noqa: F401  # isort: skip
# diagrams: re-exports
from .diagrams import (  # noqa: F401  # isort: skip
    Diagram,
    ExactCorrelator,
    exact_correlator,
    feynman_diagrams,
)
# ntk and dynamics: re-exports
from .dynamics import DivergenceError, TrainConfig, Trajectory, train, train_many  # noqa: F401  # isort: skip
from .ntk import ntk, ntk_entry, ntk_vp  # noqa: F401  # isort: skip
# spectra: re-exports
from .spectra import (  # noqa: F401  # isort: skip
    Moments,
    SpectralDensity,
    TopEigenvalues,
    hutchinson_moments,
    ntk_eigenvalues,
    spectral_density,
    top_eigenvalues,
)
# corrections: re-exports
from .corrections import continuous, discrete, kernel_correction, late_time, theta_late  # noqa: F401  # isort: skip
from .operators import Tower, o3_dot, o4_dot, reduce_to_span, tower  # noqa: F401  # isort: skip

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Dataset",
    "InitDistribution",
    "Kernels",
    "Network",
    "__version__",
    "cache_key",
    "cached",
    "config",
    "forward",
    "infinite_width",
    "init_distribution",
    "init_many",
    "load_mnist",
    "outputs_at_init",
]
