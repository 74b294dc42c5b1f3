"""The network function at initialization against its infinite-width Gaussian limit.

At n -> infinity, f(x) at initialization is N(0, K(x, x)) with K the NNGP kernel
(``kernels.infinite_width``); at finite width its distribution has O(1/n) corrections
(non-zero connected four-point function, Table 1 row 2).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from jax.typing import ArrayLike

from ..kernels import infinite_width
from ..nets import Network, outputs_at_init


@dataclasses.dataclass(frozen=True)
class InitDistribution:
    """Samples of f(x) over initializations and the infinite-width prediction.

    Attributes:
      samples: (inits,) f(x) for each initialization.
      variance: the sample variance of f(x).
      variance_stderr: its standard error, sqrt((m4 - variance^2) / inits).
      nngp_variance: K(x, x), the infinite-width variance.
      excess_kurtosis: m4 / variance^2 - 3 (zero for a Gaussian; O(1/n) at finite width).
    """

    samples: np.ndarray
    variance: float
    variance_stderr: float
    nngp_variance: float
    excess_kurtosis: float

    @property
    def z_score(self) -> float:
        """(variance - K(x,x)) / standard error."""
        return (self.variance - self.nngp_variance) / self.variance_stderr


def init_distribution(net: Network, x: ArrayLike, inits: int, seed: int = 0) -> InitDistribution:
    """Sample f(x) over ``inits`` initializations of ``net`` and compare with the NNGP."""
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    samples = np.asarray(outputs_at_init(net, x, inits, jax.random.key(seed))[:, 0], np.float64)
    centred = samples - samples.mean()
    m2, m4 = np.mean(centred**2), np.mean(centred**4)
    return InitDistribution(
        samples=samples,
        variance=float(samples.var(ddof=1)),
        variance_stderr=float(np.sqrt(max(m4 - m2**2, 0.0) / len(samples))),
        nngp_variance=float(infinite_width(net, x).nngp[0, 0]),
        excess_kurtosis=float(m4 / m2**2 - 3.0),
    )
