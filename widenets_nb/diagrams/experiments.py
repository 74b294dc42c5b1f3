"""Diagrams against the rest of the suite: Conjecture 1 vs the tight exponent, and the
exact E[C](n) against Monte Carlo estimates over initializations.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np
from jax.typing import ArrayLike

from ..correlators import Correlator
from .exact import as_correlator, exact_correlator
from .feynman import feynman_diagrams


@dataclasses.dataclass(frozen=True)
class Tightness:
    """Conjecture 1 against the diagrams for one correlator and depth.

    Attributes:
      spec: the correlator.
      depth: d.
      conjecture: s_C of Conjecture 1 (eq. 4).
      tight: max_gamma s_gamma (None when C vanishes identically).
      lemma2: max_gamma (c_gamma - m/2), the Euler-characteristic bound of Lemma 2.
      leading_surfaces: how often each surface (components joined by '+') occurs among
        the leading diagrams.
    """

    spec: str
    depth: int
    conjecture: float
    tight: int | None
    lemma2: float | None
    leading_surfaces: dict[str, int]

    @property
    def is_tight(self) -> bool:
        return self.tight is not None and self.tight == self.conjecture


def tightness(c: Correlator | str, depth: int, bias: bool = False,
              max_diagrams: int = 5000) -> Tightness:
    """Conjecture 1, Lemma 2 and the tight exponent side by side.

    Lemma 2 and the leading surfaces enumerate Gamma(C); with more than ``max_diagrams``
    diagrams they are left out (None and {}), the exponents are still exact.
    """
    c = as_correlator(c)
    exact = exact_correlator(c, depth, bias=bias)
    tight = exact.tight_exponent
    surfaces: Counter[str] = Counter()
    lemma2 = None
    listed = feynman_diagrams(c, depth, bias) if exact.n_diagrams <= max_diagrams else ()
    for g in listed:
        bound = g.n_components - c.m / 2
        lemma2 = bound if lemma2 is None else max(lemma2, bound)
        if g.exponent == tight:
            surfaces[" + ".join(comp.surface for comp in g.components())] += 1
    return Tightness(exact.spec, depth, exact.conjecture_exponent, tight, lemma2,
                     dict(surfaces))


@dataclasses.dataclass(frozen=True)
class ExactVsMonteCarlo:
    """The exact deep-linear E[C](n) beside Monte Carlo estimates at a few widths.

    Attributes:
      spec: the correlator.
      depth: d.
      bias: biases on or off.
      inputs: the inputs (one row per distinct label, sorted).
      coefficients: E[C] = sum_p coefficients[p] n^p.
      widths: the Monte Carlo widths.
      exact: E[C] at those widths.
      values, stderr: Monte Carlo means and their standard errors.
    """

    spec: str
    depth: int
    bias: bool
    inputs: np.ndarray
    coefficients: dict[int, float]
    widths: tuple[int, ...]
    exact: np.ndarray
    values: np.ndarray
    stderr: np.ndarray

    @property
    def z_scores(self) -> np.ndarray:
        """(Monte Carlo - exact) / standard error at each width."""
        return (self.values - self.exact) / self.stderr

    def curve(self, grid: ArrayLike) -> np.ndarray:
        """E[C](n) on a grid of widths."""
        n = np.asarray(grid, dtype=np.float64)
        return sum((c * n**p for p, c in self.coefficients.items()), np.zeros_like(n))


def exact_vs_monte_carlo(c: Correlator | str, depth: int, widths: Sequence[int], inits: int,
                         seed: int = 0, bias: bool = False, input_dim: int = 4,
                         inputs: ArrayLike | None = None, progress: bool = False
                         ) -> ExactVsMonteCarlo:
    """Sample the correlator of a linear network (``correlators.estimate.measure``) and
    put the exact polynomial beside it."""
    from ..correlators.estimate import default_inputs, measure

    c = as_correlator(c)
    exact = exact_correlator(c, depth, bias=bias)
    xs = (default_inputs(len(c.inputs), input_dim, seed) if inputs is None
          else np.asarray(inputs, dtype=np.float64))
    run = measure(c, widths, inits, seed, activation="linear", depth=depth, bias=bias,
                  input_dim=xs.shape[1], inputs=xs, progress=progress)
    coefficients = {p: float(v) for p, v in exact.coefficients(xs.tolist()).items()}
    result = ExactVsMonteCarlo(exact.spec, depth, bias, xs, coefficients, run.widths,
                               np.zeros(len(run.widths)), run.values, run.stderr)
    return dataclasses.replace(result, exact=result.curve(run.widths))
