"""The network function at initialization against its infinite-width Gaussian limit.

At n -> infinity, f(x) at initialization is N(0, K(x, x)) with K the NNGP kernel
(``kernels.infinite_width``); at finite width its distribution has O(1/n) corrections
(non-zero connected four-point function, Table 1 row 2), seen in its excess kurtosis.

>>> p = PriorProtocol.for_profile("quick")
>>> p.inits, p.widths, default_input(4).tolist()
(1000, (4, 16, 64), [0.5, 0.6666666666666666, 0.8333333333333333, 1.0])
>>> round(one_layer_kurtosis("relu", 1.0), 6), round(one_layer_kurtosis("linear", 1.0), 6)
(15.0, 6.0)
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .. import cache, config
from ..fits import moment
from ..kernels import infinite_width
from ..nets import Network, activation, outputs_at_init


@dataclasses.dataclass(frozen=True)
class PriorProtocol:
    """The settings of notebook 00.

    Attributes:
      input_dim: D.
      inits: initializations per width of the kurtosis table, and the most the panel's
        slider offers.
      seed: derives every initialization (``init_distribution``).
      widths: the widths of the kurtosis table.
      depth: hidden layers of the kurtosis table's network (one: f is a sum of n iid terms).
      activation: its activation.
    """

    input_dim: int = 4
    inits: int = 4000
    seed: int = 0
    widths: tuple[int, ...] = (4, 16, 64)
    depth: int = 1
    activation: str = "relu"

    @classmethod
    def for_profile(cls, name: str | None = None) -> PriorProtocol:
        """The protocol of profile ``name`` (None: the active one); profiles differ in
        ``inits`` only (quick 1000, standard 4000, paper 20000)."""
        inits = {"quick": 1000, "standard": 4000, "paper": 20000}[config.profile(name)]
        return cls(inits=inits)


def default_input(input_dim: int) -> np.ndarray:
    """The fixed input x of notebook 00: D points evenly spaced in [0.5, 1]."""
    return np.linspace(0.5, 1.0, input_dim)


@dataclasses.dataclass(frozen=True)
class InitDistribution:
    """Samples of f(x) over initializations and the infinite-width prediction.

    Attributes:
      width: n.
      samples: (inits,) f(x) for each initialization.
      variance: the sample variance of f(x).
      variance_stderr: its standard error, sqrt((m4 - variance^2) / inits).
      nngp_variance: K(x, x), the infinite-width variance.
      excess_kurtosis: m4 / variance^2 - 3 (zero for a Gaussian; O(1/n) at finite width).
    """

    width: int
    samples: np.ndarray
    variance: float
    variance_stderr: float
    nngp_variance: float
    excess_kurtosis: float

    @property
    def z_score(self) -> float:
        """(variance - K(x,x)) / standard error."""
        return (self.variance - self.nngp_variance) / self.variance_stderr

    def summary(self) -> str:
        """One line: the variance against K(x, x), and the excess kurtosis."""
        return (f"sample variance {self.variance:.4f} ± {self.variance_stderr:.4f} vs infinite "
                f"width {self.nngp_variance:.4f} (z = {self.z_score:+.2f}); excess kurtosis "
                f"{self.excess_kurtosis:+.3f}")


def _chunk(inits: int, most: int = 256) -> int:
    """A chunk size that divides ``inits`` (one compilation instead of two) where one of
    at least ``most // 4`` exists, else ``most``.

    >>> _chunk(1000), _chunk(300), _chunk(1009)
    (250, 150, 256)
    """
    divisor = max(d for d in range(1, min(most, inits) + 1) if inits % d == 0)
    return divisor if divisor >= most // 4 or divisor == inits else most


def init_distribution(net: Network, x: ArrayLike, inits: int, seed: int = 0
                      ) -> InitDistribution:
    """Sample f(x) over ``inits`` initializations of ``net`` and compare with the NNGP.

    Initialization i uses key ``split(fold_in(key(seed), n), inits)[i]`` (n the first
    hidden width), so networks of different widths never share a stream. The samples are
    cached on disk (``cache.cached``) by every argument and the precision.
    """
    if isinstance(inits, bool) or not isinstance(inits, int) or inits < 2:
        raise ValueError(f"inits must be an integer >= 2 (a variance needs two samples), "
                         f"got {inits!r}.")
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    width = net.widths[0]

    def compute() -> dict[str, np.ndarray]:
        key = jax.random.fold_in(jax.random.key(seed), width)
        samples = outputs_at_init(net, x, inits, key, chunk=_chunk(inits))
        return {"samples": np.asarray(samples[:, 0])}

    params = {"network": net, "x": x, "inits": inits, "seed": seed}
    samples = np.asarray(cache.cached("prior", params, compute)["samples"], np.float64)
    variance, variance_stderr = moment(samples, "variance")
    centred = samples - samples.mean()
    m2, m4 = np.mean(centred**2), np.mean(centred**4)
    return InitDistribution(
        width=width,
        samples=samples,
        variance=variance,
        variance_stderr=variance_stderr,
        nngp_variance=float(infinite_width(net, x).nngp[0, 0]),
        excess_kurtosis=float(m4 / m2**2 - 3.0),
    )


def one_layer_kurtosis(name: str, q: float, nodes: int = 80) -> float:
    """n x the excess kurtosis of f(x) for one hidden layer: 3 E[s^4] / E[s^2]^2 - 3,
    s = sigma(z), z ~ N(0, q) (Gauss-Hermite quadrature).

    f = n^{-1/2} sum_i v_i sigma(u_i . x) is a sum of n iid terms t_i, so its excess
    kurtosis is that of one term over n, with E[t^4] / E[t^2]^2 = E[v^4] E[s^4] / E[s^2]^2.
    ReLU: 3 (3/2) / (1/2)^2 - 3 = 15; linear: 3 x 3 - 3 = 6.
    """
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    s = np.asarray(activation(name)(jnp.asarray(np.sqrt(q) * z)), np.float64)
    return float(3 * np.sum(w * s**4) * np.sum(w) / np.sum(w * s**2) ** 2 - 3)


@dataclasses.dataclass(frozen=True)
class KurtosisTable:
    """f(x) over initializations at several widths: its excess kurtosis falls like 1/n.

    Attributes:
      protocol: the settings.
      rows: one ``InitDistribution`` per width.
      limit: n x excess kurtosis as n -> infinity (``one_layer_kurtosis``; one hidden
        layer only, else None).
    """

    protocol: PriorProtocol
    rows: tuple[InitDistribution, ...]
    limit: float | None

    def markdown(self) -> str:
        """The table: variance, K(x, x), excess kurtosis and n x excess kurtosis."""
        limit = "" if self.limit is None else f" (limit {self.limit:.3g})"
        lines = ["| n | variance | infinite width | excess kurtosis | n × kurtosis"
                 f"{limit} |", "|---|---|---|---|---|"]
        lines += [f"| {r.width} | {r.variance:.3f} ± {r.variance_stderr:.3f} | "
                  f"{r.nngp_variance:.3f} | {r.excess_kurtosis:+.3f} | "
                  f"{r.width * r.excess_kurtosis:+.2f} |" for r in self.rows]
        return "\n".join(lines)


def kurtosis_table(protocol: PriorProtocol) -> KurtosisTable:
    """``init_distribution`` at each of the protocol's widths, and the n -> infinity limit
    of n x excess kurtosis (the connected four-point function, O(1/n) by Conjecture 1)."""
    x = default_input(protocol.input_dim)
    nets = [Network(input_dim=protocol.input_dim, width=w, depth=protocol.depth,
                    activation=protocol.activation, input_scaling=True)
            for w in protocol.widths]
    rows = tuple(init_distribution(net, x, protocol.inits, protocol.seed) for net in nets)
    q = float(x @ x) / protocol.input_dim  # the pre-activation variance, eq. 15 scaling
    limit = one_layer_kurtosis(protocol.activation, q) if protocol.depth == 1 else None
    return KurtosisTable(protocol, rows, limit)
