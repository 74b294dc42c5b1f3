"""Exact correlators of deep linear networks at any width (Sec. 4, Thm 5-6, App. B).

For f(x) = n^{-d/2} V^T W_{d-1} ... W_1 U x every derivative tensor is multilinear in the
layer matrices. Isserlis' theorem pairs the m copies of each layer type by a perfect
matching; a contracted derivative pair (letter) at layer type t replaces both matrices by
Kronecker deltas, which is the same delta structure as a Wick pairing, so it is an edge of
the type-t matching that carries that letter (a *forced* edge; a tensor never carries two
letters on one layer type). The hidden index at level l is summed over the cycles of the
union of the matchings of the types l-1 and l, each cycle a factor n; the U matching
carries the input dot products x_a . x_b. Hence

    E[C](n) = sum_k n^{-k} sum_P count[P, k] prod_{(a,b) in P} x_a . x_b,

P running over U pairings. ``count`` is summed by a transfer matrix over the matchings of
neighbouring layer types (with the set of letters already placed as part of the state),
never by a product over all layers' matchings.

With biases (eq. 26, App. B.3) tensor a starts at hidden level s_a + 1 from b_{s_a}
(b_0 = U x) and carries n^{-(d - s_a)/2}; the active tensors at level l are those with
s_a < l, the bias matching b_l pairs the tensors that start there, and every level gives
n^{loops - active/2}.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from ..correlators import Correlator, Factor, parse
from .matchings import Matching, loop_table, matchings_of_subsets, perfect_matchings, support

MAX_TENSORS = 10
MAX_STATE_ENTRIES = 30_000_000
_EXACT_FLOAT = 2.0**53


def layer_types(depth: int, bias: bool = False) -> tuple[str, ...]:
    """The parameter types in network order: U, W1, b1, ..., W{d-1}, b{d-1}, V."""
    middle = [name for l in range(1, depth) for name in
              ((f"W{l}", f"b{l}") if bias else (f"W{l}",))]
    return ("U", *middle, "V")


def letter_pairs(c: Correlator) -> tuple[tuple[str, tuple[int, int]], ...]:
    """Each summed letter with its two 0-based tensor positions (equal for a trace)."""
    return c.contractions


def check_depth(depth: int) -> int:
    """``depth`` as a validated positive int."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer (hidden layers), got {depth!r}.")
    return depth


def as_correlator(c: Correlator | str) -> Correlator:
    """A ``Correlator`` from a spec, a table name or a correlator."""
    return c if isinstance(c, Correlator) else parse(c)


def forced_options(matching: Matching, pairs: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Letter masks (bit k: letter k) a matching can carry as forced edges: a letter sits on
    the edge joining its two tensors, at most one letter per edge."""
    per_edge = [[0] + [1 << k for k, pair in enumerate(pairs) if pair == edge]
                for edge in matching]
    return tuple(sorted({sum(choice) for choice in itertools.product(*per_edge)}))


@dataclasses.dataclass(frozen=True)
class _States:
    """The matchings a layer type can take, with the transfer matrices between levels."""

    matchings: list[Matching]
    options: list[tuple[int, ...]]
    cycle: dict[int, sp.csr_array]  # exponent e of 1/n -> 0/1 matrix (lower, upper)
    split: dict[int, sp.csr_array]  # letter mask on the bias matching -> (Q, Q + R)


def _states(m: int, pairs: Sequence[tuple[int, int]], bias: bool) -> _States:
    matchings = matchings_of_subsets(m) if bias else perfect_matchings(tuple(range(m)))
    index = {q: i for i, q in enumerate(matchings)}
    options = [forced_options(q, pairs) for q in matchings]
    blocks: dict[frozenset[int], list[int]] = {}
    for i, q in enumerate(matchings):
        blocks.setdefault(support(q), []).append(i)
    rows, cols, exps = [], [], []
    for cover, members in blocks.items():  # two matchings of one level share its tensors
        loops = loop_table([matchings[i] for i in members], m)
        i, j = np.indices(loops.shape).reshape(2, -1)
        rows.append(np.asarray(members)[i])
        cols.append(np.asarray(members)[j])
        exps.append(len(cover) // 2 - loops[i, j])
    rows, cols, exps = (np.concatenate(a) for a in (rows, cols, exps))
    s = len(matchings)
    cycle = {int(e): sp.csr_array((np.ones(np.sum(exps == e)), (rows[exps == e],
                                                                cols[exps == e])), (s, s))
             for e in np.unique(exps)}
    split: dict[int, sp.csr_array] = {}
    if bias:
        entries: dict[int, tuple[list[int], list[int]]] = {}
        for p, big in enumerate(matchings):
            for r_size in range(len(big) + 1):
                for rest in itertools.combinations(big, r_size):
                    q = index[tuple(e for e in big if e not in rest)]
                    for mask in options[index[rest]]:
                        entries.setdefault(mask, ([], []))
                        entries[mask][0].append(q)
                        entries[mask][1].append(p)
        split = {mask: sp.csr_array((np.ones(len(r)), (r, c)), (s, s))
                 for mask, (r, c) in entries.items()}
    return _States(matchings, options, cycle, split)


def _absorb(beta: np.ndarray, options: list[tuple[int, ...]]) -> np.ndarray:
    """Backward step of placing letters on one layer type's matching (forced edges)."""
    masks = np.arange(beta.shape[1])
    out = beta.copy()
    by_mask: dict[int, list[int]] = {}
    for s, opts in enumerate(options):
        for mask in opts:
            if mask:
                by_mask.setdefault(mask, []).append(s)
    for mask, states in by_mask.items():
        free = masks[(masks & mask) == 0]
        out[np.ix_(states, free)] += beta[np.ix_(states, free | mask)]
    return out


def _cycle(beta: np.ndarray, cycle: dict[int, sp.csr_array]) -> np.ndarray:
    """Backward step over one hidden level: n^{loops - active/2} between two matchings."""
    s, masks, k = beta.shape
    out = np.zeros_like(beta)
    flat = beta.reshape(s, masks * k)
    for e, matrix in cycle.items():
        if e < k:
            moved = (matrix @ flat).reshape(s, masks, k)
            out[:, :, e:] += moved[:, :, :k - e]
    return out


def _split(beta: np.ndarray, split: dict[int, sp.csr_array]) -> np.ndarray:
    """Backward step of the tensors that start at a bias b_l (their matching R, letters)."""
    s, masks, k = beta.shape
    idx = np.arange(masks)
    out = np.zeros_like(beta)
    for mask, matrix in split.items():
        free = idx[(idx & mask) == 0]
        part = beta[:, free | mask, :].reshape(s, len(free) * k)
        out[:, free, :] += (matrix @ part).reshape(s, len(free), k)
    return out


Monomial = tuple[tuple[int, int], ...]  # sorted pairs of input labels: prod x_K . x_K'
Polynomial = dict[int, dict[Monomial, int]]  # power of n -> monomial -> integer


class PolynomialInN:
    """A polynomial in 1/n whose coefficients are integer polynomials in the dot products
    x_K . x_K' of the inputs; subclasses give ``spec``, ``labels`` and ``polynomial()``."""

    spec: str
    labels: tuple[int, ...]

    def polynomial(self) -> Polynomial:
        raise NotImplementedError

    @property
    def tight_exponent(self) -> int | None:
        """The highest power of n for generic inputs; None if identically zero."""
        powers = [p for p, terms in self.polynomial().items() if any(terms.values())]
        return max(powers) if powers else None

    def gram(self, xs: Sequence[Sequence[object]] | np.ndarray) -> dict[tuple[int, int], object]:
        """x_K . x_K' for every pair of labels (Fractions for int/Fraction/str inputs)."""
        inputs = sorted(set(self.labels))
        rows = [list(row) for row in xs]
        if len(rows) != len(inputs) or len({len(r) for r in rows}) != 1:
            labels = ", ".join(f"x_{k}" for k in inputs)
            raise ValueError(f"{self.spec!r} needs one input vector per distinct label "
                             f"({labels}), all of one dimension; got {len(rows)} rows.")
        exact = all(isinstance(v, (int, Fraction, str)) and not isinstance(v, bool)
                    for r in rows for v in r)
        if exact:
            vectors = [[Fraction(v) for v in r] for r in rows]
        else:
            vectors = [[float(v) for v in r] for r in rows]
        dot = {}
        for (i, a), (j, b) in itertools.product(enumerate(inputs), repeat=2):
            dot[a, b] = sum((u * v for u, v in zip(vectors[i], vectors[j], strict=True)),
                            Fraction(0) if exact else 0.0)
        return dot

    def coefficients(self, xs: Sequence[Sequence[object]] | np.ndarray) -> dict[int, object]:
        """The value = sum_p coefficients[p] n^p for inputs ``xs`` (one row per distinct
        label, sorted): exact ``Fraction`` values for integer / rational / decimal-string
        inputs, floats otherwise. Zero coefficients are left out."""
        dot = self.gram(xs)
        zero = next(iter(dot.values())) * 0
        out = {}
        for power, terms in sorted(self.polynomial().items(), reverse=True):
            total = zero
            for monomial, count in terms.items():
                weight = count
                for a, b in monomial:
                    weight = weight * dot[a, b]
                total = total + weight
            if total != 0:
                out[power] = total
        return out

    def value(self, xs: Sequence[Sequence[object]] | np.ndarray, width: float) -> float:
        """The value at width n (float)."""
        return float(sum(float(c) * float(width) ** p
                         for p, c in self.coefficients(xs).items()))

    def symbolic(self) -> dict[int, dict[str, int]]:
        """The polynomial with symbolic dot products: power -> {monomial: integer}.

        >>> exact_correlator("f1 f2", depth=2).symbolic()
        {0: {'x1.x2': 1}}
        """
        return {p: {" ".join(f"x{a}.x{b}" for a, b in mono) or "1": k
                    for mono, k in sorted(terms.items()) if k}
                for p, terms in sorted(self.polynomial().items(), reverse=True)
                if any(terms.values())}


def polynomial_text(coefficients: dict[int, object], digits: int = 5) -> str:
    """sum_p coefficients[p] n^p (p <= 0) as readable text.

    >>> polynomial_text({0: 3, -1: 12, -2: Fraction(1, 2)})
    '3 +12/n +0.5/n^2'
    """
    if not coefficients:
        return "0"
    terms = []
    for p in sorted(coefficients, reverse=True):
        value = float(coefficients[p])
        power = "" if p == 0 else ("/n" if p == -1 else f"/n^{-p}")
        terms.append(f"{value:+.{digits}g}{power}")
    return " ".join(terms).lstrip("+")


@dataclasses.dataclass(frozen=True)
class ExactCorrelator(PolynomialInN):
    """E[C] of a deep linear network as an exact polynomial in 1/n (Thm 5-6).

    Attributes:
      spec: the canonical correlator spelling.
      depth: d, the number of hidden layers.
      bias: whether the network has biases b_1..b_{d-1}.
      labels: the input label K of each of the m tensors.
      pairings: the U pairings P (pairs of 0-based tensor positions) with non-zero count.
      counts: (len(pairings), K) integers; counts[P, k] is the number of diagrams with U
        pairing P and power n^{-k}.
      conjecture_exponent: s_C of Conjecture 1 (eq. 4) from the cluster graph.
    """

    spec: str
    depth: int
    bias: bool
    labels: tuple[int, ...]
    pairings: tuple[Matching, ...]
    counts: np.ndarray
    conjecture_exponent: float

    @property
    def m(self) -> int:
        return len(self.labels)

    @property
    def diagram_counts(self) -> dict[int, int]:
        """Number of Feynman diagrams at each power of n (s_gamma -> count), non-zero only."""
        total = self.counts.sum(axis=0)
        return {-k: int(c) for k, c in enumerate(total) if c}

    @property
    def n_diagrams(self) -> int:
        return int(self.counts.sum())

    def polynomial(self) -> Polynomial:
        out: Polynomial = {}
        for pairing, row in zip(self.pairings, self.counts, strict=True):
            monomial = tuple(sorted(tuple(sorted((self.labels[a], self.labels[b])))
                                    for a, b in pairing))
            for k, count in enumerate(row):
                if count:
                    terms = out.setdefault(-k, {})
                    terms[monomial] = terms.get(monomial, 0) + int(count)
        return out


@dataclasses.dataclass(frozen=True)
class ExactVariance(PolynomialInN):
    """Var_theta of the integrand I of C (Table 3, Lemma 6): E[I^2] - E[I]^2, exact.

    Attributes:
      spec: the canonical ``var:`` spelling.
      square: E[I^2], the correlator with every factor doubled (fresh letters).
      mean: E[I].
      conjecture_exponent: 2 s_C, the bound of Lemma 6.
    """

    spec: str
    square: ExactCorrelator
    mean: ExactCorrelator
    conjecture_exponent: float

    @property
    def labels(self) -> tuple[int, ...]:
        return self.mean.labels

    @property
    def depth(self) -> int:
        return self.mean.depth

    @property
    def bias(self) -> bool:
        return self.mean.bias

    @property
    def n_diagrams(self) -> int:
        """Diagrams of E[I^2]."""
        return self.square.n_diagrams

    @property
    def diagram_counts(self) -> dict[int, int]:
        return self.square.diagram_counts

    def polynomial(self) -> Polynomial:
        out = {p: dict(t) for p, t in self.square.polynomial().items()}
        mean = self.mean.polynomial()
        for (p, a), (q, b) in itertools.product(mean.items(), repeat=2):
            for (ma, ka), (mb, kb) in itertools.product(a.items(), b.items()):
                terms = out.setdefault(p + q, {})
                monomial = tuple(sorted(ma + mb))
                terms[monomial] = terms.get(monomial, 0) - ka * kb
        return {p: {mono: k for mono, k in t.items() if k} for p, t in out.items()}


def _validate(c: Correlator) -> None:
    if c.variance:
        raise ValueError(f"{c.text!r} is a variance; use exact_variance (or exact).")
    if c.m > MAX_TENSORS:
        raise ValueError(f"{c.text!r} has {c.m} tensors; exact values are limited to "
                         f"{MAX_TENSORS} (the matchings grow like (m-1)!!).")


def conjecture_exponent(c: Correlator) -> float:
    """Conjecture 1 (eq. 4): s_C = n_e + n_o/2 - m/2 from the cluster graph."""
    from ..correlators.clusters import predict

    return predict(Correlator(c.factors)).s


def exact_correlator(c: Correlator | str, depth: int, bias: bool = False) -> ExactCorrelator:
    """E[C] of a deep linear network of depth ``depth`` as a polynomial in 1/n (Thm 5-6).

    >>> e = exact_correlator("f1 f2 f3 f4", depth=1)  # (1 + 2/n) times the three pairings
    >>> e.symbolic()[-1]
    {'x1.x2 x3.x4': 2, 'x1.x3 x2.x4': 2, 'x1.x4 x2.x3': 2}
    """
    c = as_correlator(c)
    check_depth(depth)
    _validate(c)
    labels = tuple(f.input for f in c.factors)
    conj = conjecture_exponent(c)
    pairs = [pair for _, pair in letter_pairs(c)]
    m = c.m
    empty = ExactCorrelator(c.text, depth, bias, labels, (), np.zeros((0, 1), np.int64), conj)
    if m % 2 or any(i == j for i, j in pairs):
        return empty  # odd moments vanish; a trace is two derivatives on one layer
    bias = bias and depth > 1
    states = _states(m, pairs, bias)
    n_masks, k = 1 << len(pairs), depth * (m // 2) + 1
    if len(states.matchings) * n_masks * k > MAX_STATE_ENTRIES:
        raise ValueError(f"{c.text!r} at depth {depth} needs "
                         f"{len(states.matchings) * n_masks * k:.3g} state entries; use "
                         f"fewer tensors, letters or layers.")
    beta = np.zeros((len(states.matchings), n_masks, k))
    full = [i for i, q in enumerate(states.matchings) if 2 * len(q) == m]
    beta[full, n_masks - 1, 0] = 1.0
    for level in range(depth, 0, -1):
        beta = _absorb(beta, states.options)          # letters on W_level (or V)
        beta = _cycle(beta, states.cycle)              # index loops at this level
        if bias and level > 1:
            beta = _split(beta, states.split)          # tensors starting at b_{level-1}
    beta = _absorb(beta, states.options)[:, 0, :]      # letters on U; nothing left over
    if beta.size and beta.max() >= _EXACT_FLOAT:
        raise ValueError(f"{c.text!r} at depth {depth} has more than 2^53 diagrams at one "
                         "power of n; exact integer counts are not available.")
    keep = np.nonzero(beta.any(axis=1))[0]
    counts = np.rint(beta[keep]).astype(np.int64)
    last = max((int(np.max(np.nonzero(counts.any(axis=0))[0])) + 1) if counts.size else 1, 1)
    return ExactCorrelator(c.text, depth, bias, labels,
                           tuple(states.matchings[i] for i in keep), counts[:, :last], conj)


def variance_correlators(c: Correlator | str) -> tuple[Correlator, Correlator]:
    """(E[I^2], E[I]) for the integrand I of ``c``: Var[I] = E[I^2] - E[I]^2 (Lemma 6).

    The second copy of the integrand gets fresh letters.
    """
    c = as_correlator(c)
    base = Correlator(c.factors)
    fresh = iter(ch for ch in "abcdefghijklmnopqrstuvwxyz" if ch not in base.letters)
    rename = {letter: next(fresh, None) for letter in base.letters}
    if None in rename.values():
        raise ValueError(f"{c.text!r} has too many letters to square.")
    copy = tuple(Factor(f.input, tuple(rename[i] for i in f.indices)) for f in base.factors)
    return Correlator(base.factors + copy), base


def exact_variance(c: Correlator | str, depth: int, bias: bool = False) -> ExactVariance:
    """Var_theta of the integrand of ``c`` (Table 3) as an exact polynomial in 1/n.

    >>> exact_variance("var:f1_a f2_a", depth=2).tight_exponent  # NTK variance (Thm 10)
    -1
    """
    c = as_correlator(c)
    square, base = variance_correlators(c)
    if square.m > MAX_TENSORS:
        raise ValueError(f"the variance of {base.text!r} needs E[I^2] with {square.m} "
                         f"tensors; exact values are limited to {MAX_TENSORS}.")
    mean = exact_correlator(base, depth, bias)
    return ExactVariance(Correlator(base.factors, True).text,
                         exact_correlator(square, depth, bias), mean,
                         2 * mean.conjecture_exponent)


def exact(c: Correlator | str, depth: int, bias: bool = False
          ) -> ExactCorrelator | ExactVariance:
    """``exact_variance`` for a ``var:`` correlator, else ``exact_correlator``."""
    c = as_correlator(c)
    return exact_variance(c, depth, bias) if c.variance else exact_correlator(c, depth, bias)
