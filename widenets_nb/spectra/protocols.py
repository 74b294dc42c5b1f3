"""The protocols of Figs. 9-10 and notebook 05: one frozen dataclass per experiment.

``for_profile(name)`` gives the numbers of the quick, standard and paper profiles; the
notebook, ``reproduce``, the benchmarks and the tests read the same objects and may
override single fields with ``dataclasses.replace``.

>>> GapProtocol.for_profile("standard").widths
(64, 128, 256, 512, 1024)
"""

from __future__ import annotations

import dataclasses

from .. import config


def _doubling(low: int, high: int) -> tuple[int, ...]:
    """Widths 2^low .. 2^high."""
    return tuple(2**k for k in range(low, high + 1))


@dataclasses.dataclass(frozen=True)
class GapProtocol:
    """Fig. 9a: the eigenvalue gaps |lambda_i(H) - lambda_i(Theta)| against width (eq. 76).

    Every network takes a certified solve of its top N x 2 eigenvalues (about 250
    Hessian-vector products), whose cost is ARPACK's orthogonalization against a float64
    basis of P-vectors more than the products. On ``gram`` inputs P drops from 784 n + ...
    to N n + ... (37-fold at depth 1, 1.7-fold at depth 2 and width 1024), so the standard
    profile reaches width 1024 with eight initializations per width (the fewest for a
    t-interval on per-width means). On a shared machine run it with OPENBLAS_NUM_THREADS=1:
    ARPACK's matrix-vector BLAS calls gain nothing from a second thread and lose up to
    tenfold when the threads wait for each other (``benchmarks/results/spectra.md``).

    Attributes:
      widths: the hidden widths n.
      instances: initializations per width.
      per_class: two-class MNIST images per class (N = 2 per_class).
      depths, activations: the networks swept.
      seed: the one seed of every draw (data subset, initializations, Lanczos starts).
      gram: the networks see the N-dimensional ``gram_inputs`` of the images (the same law
        of f, Theta and H's nonzero spectrum; ``measurements.setup``).
    """

    widths: tuple[int, ...]
    instances: int
    per_class: int
    depths: tuple[int, ...] = (1, 2)
    activations: tuple[str, ...] = ("relu", "tanh")
    seed: int = 0
    gram: bool = True

    @classmethod
    def for_profile(cls, name: str | None = None) -> GapProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls((32, 64, 128), 2, 3),
                "standard": cls(_doubling(6, 10), 8, 10),
                "paper": cls(_doubling(6, 12), 100, 10)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class TopProtocol:
    """Fig. 9b: the top ``count`` eigenvalues of H and Theta on three-class MNIST.

    The standard profile stops at width 1024 (P = 1.07 million on ``gram`` inputs, 1.85
    million on the images; a certified solve in minutes on two cores); the paper profile is
    the paper's 2048.

    Attributes:
      width: the hidden width.
      per_class: images per class.
      count: eigenvalues compared.
      krylov: the Lanczos basis size (ARPACK's ncv; the products are as many as
        convergence takes).
      depth, activation, classes: the network and the task.
      seed: the one seed of every draw.
      gram: the network sees the ``gram_inputs`` of the images (as in ``GapProtocol``).
    """

    width: int
    per_class: int
    count: int = 10
    krylov: int = 30
    depth: int = 2
    activation: str = "relu"
    classes: int = 3
    seed: int = 0
    gram: bool = True

    @classmethod
    def for_profile(cls, name: str | None = None) -> TopProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls(128, 3), "standard": cls(1024, 5),
                "paper": cls(2048, 10)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class MomentProtocol:
    """Fig. 10a: (Tr H^m - Tr Theta^m) / Tr Theta^m at initialization and after GD.

    Attributes:
      widths: the hidden widths n (two hidden layers, ReLU, two classes).
      per_class: images per class.
      probes: Hutchinson probes.
      steps: full-batch GD steps of the trained stage.
      seed: the one seed of every draw.
    """

    widths: tuple[int, ...]
    per_class: int
    probes: int
    steps: int
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> MomentProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls((64,), 5, 40, 100),
                "standard": cls((128, 512), 20, 200, 1000),
                "paper": cls((256, 1024, 4096), 100, 1000, 10000)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class RmsProtocol:
    """Fig. 10b: the RMS eigenvalue sqrt(Tr B^2 / P) of B against width (ReLU, two classes).

    Attributes:
      widths: the hidden widths n.
      instances: initializations per width.
      per_class: images per class.
      probes: Hutchinson probes per instance (|B v|^2 varies little).
      depths: the depths swept.
      seed: the one seed of every draw.
    """

    widths: tuple[int, ...]
    instances: int
    per_class: int
    probes: int
    depths: tuple[int, ...] = (1, 2)
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> RmsProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls((32, 64, 128), 2, 5, 10),
                "standard": cls(_doubling(6, 9), 30, 20, 30),
                "paper": cls(_doubling(6, 12), 10, 100, 1000)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class DensityProtocol:
    """The SLQ density of H and Theta's eigenvalues before and after GD (two hidden layers).

    Attributes:
      width: the hidden width.
      per_class: images per class.
      steps: full-batch GD steps of the trained stage.
      krylov: Lanczos products per probe.
      probes: SLQ probe vectors.
      points: eigenvalue grid points.
      seed: the one seed of every draw.
    """

    width: int
    per_class: int
    steps: int
    krylov: int = 60
    probes: int = 4
    points: int = 400
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> DensityProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls(64, 5, 100), "standard": cls(256, 20, 1000),
                "paper": cls(1024, 100, 10000)}[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class ExplorerProtocol:
    """Notebook 05's panels: what the controls do not set.

    Attributes:
      log2_width: the width slider's start (width 2^log2_width).
      max_log2_width: its end.
      per_class: the images-per-class slider's start.
      steps: the GD-steps slider's start in the moments and density panels.
      count: top eigenvalues compared (top panel).
      probes: Hutchinson probes (moments panel).
      krylov: Lanczos products per SLQ probe (density panel).
      density_probes: SLQ probe vectors (density panel).
      points: eigenvalue grid points (density panel).
      seed: the one seed of every draw.
    """

    log2_width: int = 6
    max_log2_width: int = 11
    per_class: int = 5
    steps: int = 500
    count: int = 10
    probes: int = 100
    krylov: int = 40
    density_probes: int = 2
    points: int = 300
    seed: int = 0

    @classmethod
    def for_profile(cls, name: str | None = None) -> ExplorerProtocol:
        """The protocol of profile ``name`` (default: the active one)."""
        return {"quick": cls(per_class=3, probes=20), "standard": cls(),
                "paper": cls(per_class=10, probes=300)}[config.profile(name)]
