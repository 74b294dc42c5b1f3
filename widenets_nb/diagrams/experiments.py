"""Diagrams against the rest of the suite (notebook 02): the diagrams of a correlator one by
one, Conjecture 1 against the tight exponent (Table 1), the exact variances (Table 3),
Lemma 2 on every diagram, biases (App. B.3), and the exact E[C](n) against Monte Carlo
estimates over initializations.

>>> MonteCarloProtocol.for_profile("quick").widths, TightnessProtocol.for_profile("paper").depths
((2, 8), (1, 2, 3, 4, 5))
>>> step = diagram_step("f1 f2 f3 f4", 1, number=2)  # 3 U pairings x 3 V pairings
>>> step.total, step.diagram.exponent, step.labels
(9, 0, ('f1', 'f2', 'f3', 'f4'))
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Sequence

import numpy as np
from jax.typing import ArrayLike

from .. import config, paper
from ..correlators import NAMED, Correlator, parse
from ..correlators.estimate import default_inputs, measure
from ..results import Scaling, scaling
from .exact import (
    ExactCorrelator,
    ExactVariance,
    as_correlator,
    exact_correlator,
    exact_variance,
    polynomial_text,
)
from .feynman import Diagram, feynman_diagrams, leading_diagrams

#: The most diagrams the panel lists (highest power of n first).
MAX_LISTED = 400


def describe(result: ExactCorrelator | ExactVariance) -> str:
    """Markdown: the correlator, its diagrams by power of n, the tight exponent beside
    Conjecture 1, and the polynomial with symbolic dot products."""
    lines = [f"$${parse(result.spec).latex}$$", "",
             f"{result.n_diagrams} diagrams; by power of n: {result.diagram_counts}. "
             f"Tight exponent max s_gamma = {result.tight_exponent}, Conjecture 1: s_C = "
             f"{result.conjecture_exponent:g}.", ""]
    lines += [f"- $n^{{{power}}}$: " + " + ".join(f"{k} `{mono}`" for mono, k in terms.items())
              for power, terms in result.symbolic().items()]
    return "\n".join(lines)


@functools.lru_cache(maxsize=32)
def listed_diagrams(spec: str, depth: int, bias: bool = False
                    ) -> tuple[tuple[Diagram, ...], bool]:
    """The first ``MAX_LISTED`` diagrams of ``spec`` (highest power first when they could
    all be sorted) and whether they are sorted; remembered for the panel."""
    diagrams, is_sorted = leading_diagrams(spec, depth, bias, limit=MAX_LISTED)
    return tuple(diagrams), is_sorted


@dataclasses.dataclass(frozen=True)
class DiagramStep:
    """The ``number``-th listed diagram of a correlator with the numbers around it.

    Attributes:
      spec: the correlator.
      labels: the factors' spellings (vertex labels).
      number: 1-based position among the listed diagrams.
      diagram: that diagram.
      exact: E[C], whose diagram counts and exponents the summary quotes.
      is_sorted: whether the list is highest power first.
    """

    spec: str
    labels: tuple[str, ...]
    number: int
    diagram: Diagram
    exact: ExactCorrelator
    is_sorted: bool

    @property
    def total(self) -> int:
        """|Gamma(C)|, the number of diagrams."""
        return self.exact.n_diagrams

    def summary(self) -> str:
        """One line: position, counts by power, tight exponent, Conjecture 1, Lemma 2."""
        counts = ", ".join(f"{v} at n^{k}" for k, v in self.exact.diagram_counts.items())
        order = "highest power first" if self.is_sorted else "in enumeration order"
        g = self.diagram
        return (f"diagram {self.number} of {self.total} ({order}); diagrams by power: "
                f"{counts}. Tight exponent {self.exact.tight_exponent}, Conjecture 1 "
                f"{self.exact.conjecture_exponent:g}. Lemma 2: s = chi - m/2 = {g.exponent} "
                f"<= c - m/2 = {g.n_components - len(self.labels) / 2:g}.")


def diagram_step(spec: Correlator | str, depth: int, bias: bool = False, number: int = 1
                 ) -> DiagramStep:
    """The ``number``-th diagram of ``spec`` (``listed_diagrams`` order).

    Raises:
      ValueError: when the correlator vanishes identically (no diagram) or ``number`` is
        beyond the listed diagrams.
    """
    c = as_correlator(spec)
    diagrams, is_sorted = listed_diagrams(c.text, depth, bias)
    if not diagrams:
        raise ValueError(f"{c.text} has no Feynman diagram at depth {depth}: it vanishes "
                         "identically for a deep linear network.")
    if not 1 <= number <= len(diagrams):
        raise ValueError(f"only {len(diagrams)} diagrams are listed; choose 1..{len(diagrams)}.")
    return DiagramStep(c.text, tuple(f.text for f in c.factors), number,
                       diagrams[number - 1], exact_correlator(c, depth, bias=bias), is_sorted)


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
        """Whether Conjecture 1 gives the exact exponent."""
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
class TightnessProtocol:
    """The Conjecture 1 table of notebook 02.

    Attributes:
      table: the paper table whose rows are compared (``NAMED`` rows ``<table>.row<i>``).
      rows: the 1-based rows.
      depths: the depths d.
      max_diagrams: enumerate the diagrams (Lemma 2, surfaces) up to this many.
    """

    table: str = "table1"
    rows: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    depths: tuple[int, ...] = (1, 2, 3, 4)
    max_diagrams: int = 5000

    @classmethod
    def for_profile(cls, name: str | None = None) -> TightnessProtocol:
        """Depths 1..3 (quick), 1..4 (standard), 1..5 (paper)."""
        last = {"quick": 3, "standard": 4, "paper": 5}[config.profile(name)]
        return cls(depths=tuple(range(1, last + 1)))


@dataclasses.dataclass(frozen=True)
class TightnessTable:
    """``tightness`` for every row and depth of a protocol."""

    protocol: TightnessProtocol
    entries: tuple[Tightness, ...]

    def markdown(self) -> str:
        """Conjecture 1, the Lemma 2 bound, the tight exponent (starred where Conjecture 1
        is not tight; "C ≡ 0" where C vanishes) and the leading diagrams' surfaces."""
        lines = ["| correlator | d | Conjecture 1 | Lemma 2 bound | tight | leading diagrams |",
                 "|---|---|---|---|---|---|"]
        for t in self.entries:
            lemma = "–" if t.lemma2 is None else f"{t.lemma2:g}"
            surfaces = ", ".join(f"{k} {s}" for s, k in t.leading_surfaces.items()) or "–"
            tight = "C ≡ 0" if t.tight is None else str(t.tight)
            star = "" if t.is_tight or t.tight is None else " *"
            lines.append(f"| `{t.spec}` | {t.depth} | {t.conjecture:g} | {lemma} | "
                         f"{tight}{star} | {surfaces} |")
        return "\n".join(lines)


def tightness_table(protocol: TightnessProtocol) -> TightnessTable:
    """``tightness`` of each row of ``protocol.table`` at each of its depths."""
    return TightnessTable(protocol, tuple(
        tightness(NAMED[f"{protocol.table}.row{row}"], depth,
                  max_diagrams=protocol.max_diagrams)
        for row in protocol.rows for depth in protocol.depths))


@dataclasses.dataclass(frozen=True)
class VarianceTable:
    """Table 3 for deep linear networks: Lemma 6's bound, the exact exponent and the
    paper's fitted one.

    Attributes:
      depth: d of the exact variances.
      variances: the exact variances, rows 1, 2, ...
      paper: the paper's fitted exponents of the same rows (linear networks,
        ``paper.TABLES["table3"]``).
    """

    depth: int
    variances: tuple[ExactVariance, ...]
    paper: tuple[float | None, ...]

    def markdown(self) -> str:
        """One row per variance."""
        lines = [f"| variance | Lemma 6 bound | tight (d = {self.depth}) | paper, linear |",
                 "|---|---|---|---|"]
        lines += [f"| `{v.spec}` | {v.conjecture_exponent:g} | {v.tight_exponent} | "
                  f"{'–' if p is None else f'{p:g}'} |"
                  for v, p in zip(self.variances, self.paper, strict=True)]
        return "\n".join(lines)


def variance_table(depth: int = 3, rows: Sequence[int] = (1, 2, 3, 4, 5)) -> VarianceTable:
    """The exact variances of Table 3's ``rows`` (Lemma 6) beside the paper's linear fits
    (row 6 would need 12 tensors, beyond ``exact.MAX_TENSORS``)."""
    return VarianceTable(
        depth, tuple(exact_variance(NAMED[f"table3.row{i}"], depth) for i in rows),
        tuple(paper.table_value("table3", "linear", i) for i in rows))


@dataclasses.dataclass(frozen=True)
class Lemma2Census:
    """Every diagram of a correlator at (Lemma 2 bound c - m/2, s_gamma, chi).

    Attributes:
      spec: the correlator.
      depth: d.
      exponents: s_gamma of each diagram.
      bounds: c_gamma - m/2 of each diagram.
      eulers: chi of each diagram.
    """

    spec: str
    depth: int
    exponents: tuple[int, ...]
    bounds: tuple[float, ...]
    eulers: tuple[int, ...]


def lemma2_census(spec: Correlator | str, depth: int, bias: bool = False) -> Lemma2Census:
    """Enumerate the diagrams of ``spec`` (Lemma 2: s_gamma = chi - m/2 <= c_gamma - m/2)."""
    c = as_correlator(spec)
    found = list(feynman_diagrams(c, depth, bias))
    return Lemma2Census(c.text, depth, tuple(g.exponent for g in found),
                        tuple(g.n_components - c.m / 2 for g in found),
                        tuple(g.euler for g in found))


@dataclasses.dataclass(frozen=True)
class BiasComparison:
    """E[C](n) without and with biases (App. B.3) at the same inputs.

    Attributes:
      depth: d.
      inputs: x_1..x_K, shared by every correlator (its labels pick the rows).
      plain, biased: the exact correlators without and with biases.
    """

    depth: int
    inputs: np.ndarray
    plain: tuple[ExactCorrelator, ...]
    biased: tuple[ExactCorrelator, ...]

    def markdown(self) -> str:
        """One row per correlator: both polynomials."""
        lines = ["| correlator | no bias | biases |", "|---|---|---|"]
        for plain, biased in zip(self.plain, self.biased, strict=True):
            xs = self.inputs[: len(set(plain.labels))]
            lines.append(f"| `{plain.spec}` | {polynomial_text(plain.coefficients(xs), 4)} | "
                         f"{polynomial_text(biased.coefficients(xs), 4)} |")
        return "\n".join(lines)


def bias_comparison(specs: Sequence[Correlator | str], depth: int, seed: int = 0,
                    input_dim: int = 4) -> BiasComparison:
    """Each correlator without and with biases at inputs x_1..x_K drawn once from
    U[0, 1]^D with ``seed`` (``correlators.estimate.default_inputs``)."""
    cs = [as_correlator(s) for s in specs]
    count = max(len(c.inputs) for c in cs)
    return BiasComparison(depth, default_inputs(count, input_dim, seed),
                          tuple(exact_correlator(c, depth) for c in cs),
                          tuple(exact_correlator(c, depth, bias=True) for c in cs))


@dataclasses.dataclass(frozen=True)
class MonteCarloProtocol:
    """The exact E[C](n) against Monte Carlo (notebook 02).

    Attributes:
      spec: the correlator.
      depth: d.
      widths: the Monte Carlo widths.
      inits: initializations per width.
      seed: derives the inputs (``default_inputs``) and the initializations
        (``correlators.estimate.measure``: one folded stream per width).
      input_dim: D.
      bias: biases on or off.
    """

    spec: str = "table1.row4"
    depth: int = 3
    widths: tuple[int, ...] = (2, 4, 8, 16, 64)
    inits: int = 4000
    seed: int = 0
    input_dim: int = 4
    bias: bool = False

    @classmethod
    def for_profile(cls, name: str | None = None) -> MonteCarloProtocol:
        """quick: n = 2, 8 with 2000 inits; standard: 2..64 with 4000; paper: 2..128
        with 20000."""
        return {"quick": cls(widths=(2, 8), inits=2000),
                "standard": cls(),
                "paper": cls(widths=(2, 4, 8, 16, 32, 64, 128), inits=20000),
                }[config.profile(name)]


@dataclasses.dataclass(frozen=True)
class ExactVsMonteCarlo:
    """The exact deep-linear E[C](n) beside Monte Carlo estimates at a few widths.

    Attributes:
      spec: the correlator.
      depth: d.
      bias: biases on or off.
      inputs: the inputs (one row per distinct label, sorted).
      coefficients: E[C] = sum_p coefficients[p] n^p.
      monte_carlo: the Monte Carlo means against width (predicted exponent: the leading
        power of the polynomial).
    """

    spec: str
    depth: int
    bias: bool
    inputs: np.ndarray
    coefficients: dict[int, float]
    monte_carlo: Scaling

    @property
    def widths(self) -> tuple[int, ...]:
        """The Monte Carlo widths."""
        return self.monte_carlo.widths

    @property
    def values(self) -> np.ndarray:
        """Monte Carlo means."""
        return np.asarray(self.monte_carlo.values)

    @property
    def stderr(self) -> np.ndarray:
        """Their standard errors."""
        return np.asarray(self.monte_carlo.stderr)

    @property
    def exact(self) -> np.ndarray:
        """E[C] at the Monte Carlo widths."""
        return self.curve(self.widths)

    @property
    def z_scores(self) -> np.ndarray:
        """(Monte Carlo - exact) / standard error at each width."""
        return (self.values - self.exact) / self.stderr

    def curve(self, grid: ArrayLike) -> np.ndarray:
        """E[C](n) on a grid of widths."""
        n = np.asarray(grid, dtype=np.float64)
        return sum((c * n**p for p, c in self.coefficients.items()), np.zeros_like(n))

    def leading(self, grid: ArrayLike) -> np.ndarray:
        """The leading term alone, c_s n^s with s the highest power."""
        top = max(self.coefficients)
        return self.coefficients[top] * np.asarray(grid, dtype=np.float64) ** top

    def markdown(self) -> str:
        """One row per width: exact, Monte Carlo +- standard error, z-score."""
        lines = ["| n | exact | Monte Carlo | z |", "|---|---|---|---|"]
        lines += [f"| {n} | {e:.5f} | {v:.5f} ± {s:.5f} | {z:+.2f} |"
                  for n, e, v, s, z in zip(self.widths, self.exact, self.values, self.stderr,
                                           self.z_scores, strict=True)]
        return "\n".join(lines)


def exact_vs_monte_carlo(protocol: MonteCarloProtocol, inputs: ArrayLike | None = None,
                         progress: bool = False) -> ExactVsMonteCarlo:
    """Sample the correlator of a linear network (``correlators.estimate.measure``, cached
    per width) and put the exact polynomial beside it; default inputs
    ``default_inputs(K, D, seed)``."""
    c = as_correlator(protocol.spec)
    exact = exact_correlator(c, protocol.depth, bias=protocol.bias)
    xs = (default_inputs(len(c.inputs), protocol.input_dim, protocol.seed) if inputs is None
          else np.asarray(inputs, dtype=np.float64))
    run = measure(c, protocol.widths, protocol.inits, protocol.seed, activation="linear",
                  depth=protocol.depth, bias=protocol.bias, input_dim=xs.shape[1], inputs=xs,
                  use_cache=True, progress=progress)
    coefficients = {p: float(v) for p, v in exact.coefficients(xs.tolist()).items()}
    mc = scaling(exact.spec, run.widths, run.samples, predicted=exact.tight_exponent,
                 seed=protocol.seed, labels={"depth": protocol.depth})
    return ExactVsMonteCarlo(exact.spec, protocol.depth, protocol.bias, xs, coefficients, mc)
