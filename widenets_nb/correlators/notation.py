"""The correlator notation (Def. 1, eq. 3): parse, render as text and LaTeX.

A correlator is a product of factors ``fK`` (the network output at input x_K) carrying
derivative letters after an underscore; every letter occurs exactly twice and is summed over
all parameters (the Einstein convention of Def. 1)::

    f1 f2                  E[f(x_1) f(x_2)]
    f1_a f2_a              sum_mu E[d_mu f(x_1) d_mu f(x_2)]       (the mean NTK)
    f1_a f2_b f3_ab f4     sum_{mu nu} E[d_mu f1 d_nu f2 d_mu d_nu f3 f4]
    f1_aa                  a trace: sum_mu E[d_mu d_mu f(x_1)]
    var:f1_a f2_a          Var_theta of the integrand (Table 3, Lemma 6)

Inputs may repeat (``f1_a f1_a``). ``parse`` also accepts a name from ``NAMED``
(``"table1.row4"``).

>>> c = parse("f1_a f2_b f3_ab f4")
>>> c.m, c.contractions
(4, (('a', (0, 2)), ('b', (1, 2))))
>>> parse(c.text) == c
True
"""

from __future__ import annotations

import dataclasses
import string

_TABLE_ROWS: tuple[str, ...] = (
    "f1 f2",
    "f1 f2 f3 f4",
    "f1_a f2_a",
    "f1_a f2_b f3_ab f4",
    "f1_a f2_b f3_c f4_abc",
    "f1_a f2_b f3_ab f4_c f5_d f6_cd",
)

#: The rows of the paper's tables by name. Tables 1 (Gaussian weights) and 2 ({+1,-1}
#: weights) share the correlators; Table 3 rows are the variances of the same integrands.
NAMED: dict[str, str] = {
    **{f"table1.row{i}": spec for i, spec in enumerate(_TABLE_ROWS, 1)},
    **{f"table2.row{i}": spec for i, spec in enumerate(_TABLE_ROWS, 1)},
    **{f"table3.row{i}": "var:" + spec for i, spec in enumerate(_TABLE_ROWS, 1)},
}

VAR_PREFIX = "var:"
_LETTERS = frozenset(string.ascii_lowercase)
_GREEK = (r"\mu", r"\nu", r"\rho", r"\sigma", r"\lambda", r"\kappa", r"\alpha", r"\beta",
          r"\gamma", r"\delta", r"\epsilon", r"\eta", r"\tau", r"\phi", r"\chi", r"\psi",
          r"\omega", r"\xi", r"\zeta", r"\pi", r"\theta", r"\iota", r"\upsilon",
          r"\varphi", r"\varrho", r"\varsigma")


@dataclasses.dataclass(frozen=True)
class Factor:
    """One derivative tensor T(x_K) = d^k f(x_K) / d theta_{i_1} ... d theta_{i_k}.

    Attributes:
      input: K >= 1, the label of the input x_K.
      indices: the derivative letters in order (empty for f itself).
    """

    input: int
    indices: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """``fK`` or ``fK_letters``."""
        return f"f{self.input}" + ("_" + "".join(self.indices) if self.indices else "")


@dataclasses.dataclass(frozen=True)
class Correlator:
    """A correlation function C = sum E[T(x_1) ... T(x_m)] (Def. 1), or its variance.

    Attributes:
      factors: the m derivative tensors, in the order written.
      variance: True for Var_theta of the integrand (Table 3) instead of its mean.
    """

    factors: tuple[Factor, ...]
    variance: bool = False

    @property
    def m(self) -> int:
        """The number of tensors."""
        return len(self.factors)

    @property
    def text(self) -> str:
        """The canonical spelling, e.g. ``"var:f1_a f2_a"``; ``parse(text)`` gives it back."""
        body = " ".join(f.text for f in self.factors)
        return VAR_PREFIX + body if self.variance else body

    @property
    def letters(self) -> tuple[str, ...]:
        """The summed letters in order of first appearance."""
        seen: dict[str, None] = {}
        for factor in self.factors:
            seen.update(dict.fromkeys(factor.indices))
        return tuple(seen)

    @property
    def contractions(self) -> tuple[tuple[str, tuple[int, int]], ...]:
        """Each letter with the 0-based positions (i, j), i <= j, of the two factors it joins.

        ``i == j`` is a trace (``f1_aa``). Letters appear in order of first occurrence.
        """
        where: dict[str, list[int]] = {}
        for position, factor in enumerate(self.factors):
            for letter in factor.indices:
                where.setdefault(letter, []).append(position)
        return tuple((letter, (pos[0], pos[1])) for letter, pos in where.items())

    @property
    def inputs(self) -> tuple[int, ...]:
        """The distinct input labels, sorted."""
        return tuple(sorted({f.input for f in self.factors}))

    @property
    def latex(self) -> str:
        r"""LaTeX: ``\sum_{\mu\nu} \mathbb{E}[\partial_\mu f(x_1) ...]`` (``\mathrm{Var}`` for
        variances)."""
        greek = dict(zip(self.letters, _GREEK, strict=False))
        body = r"\,".join(
            "".join(rf"\partial_{{{greek[i]}}}" for i in f.indices) + f"f(x_{{{f.input}}})"
            for f in self.factors
        )
        total = rf"\sum_{{{''.join(greek.values())}}} " if greek else ""
        operator = r"\mathrm{Var}_\theta" if self.variance else r"\mathbb{E}_\theta"
        return rf"{total}{operator}\left[{body}\right]"

    def __str__(self) -> str:
        return self.text


def _error(spec: str, position: int, message: str) -> ValueError:
    return ValueError(
        f"bad correlator at position {position}: {message}\n  {spec}\n  {' ' * position}^"
    )


_FACTOR_RULE = ("a factor is 'f' followed by an input number K >= 1 and optionally '_' and "
                "derivative letters a-z, e.g. 'f3_ab'; factors are separated by spaces")


def _scan_factor(spec: str, start: int) -> tuple[Factor, list[int], int]:
    """Read one factor at ``start``; return it, the positions of its letters, and the end."""
    if spec[start] != "f":
        raise _error(spec, start, f"unexpected {spec[start]!r}; {_FACTOR_RULE}")
    i = start + 1
    while i < len(spec) and spec[i].isdigit():
        i += 1
    digits = spec[start + 1:i]
    if not digits:
        raise _error(spec, i, f"missing input number after 'f'; {_FACTOR_RULE}")
    if digits[0] == "0":
        raise _error(spec, start + 1, "input labels start at 1 and have no leading zeros "
                                      "(f1, f2, ...)")
    positions: list[int] = []
    if i < len(spec) and spec[i] == "_":
        i += 1
        while i < len(spec) and spec[i] in _LETTERS:
            positions.append(i)
            i += 1
        if not positions:
            raise _error(spec, i, "'_' must be followed by derivative letters a-z, "
                                  "e.g. 'f1_a'")
    if i < len(spec) and not spec[i].isspace():
        rule = ("derivative letters are lowercase a-z" if spec[i].isalpha()
                else _FACTOR_RULE)
        raise _error(spec, i, f"unexpected {spec[i]!r}; {rule}")
    return Factor(int(digits), tuple(spec[p] for p in positions)), positions, i


def parse(spec: str) -> Correlator:
    """Parse a correlator spec (or a ``NAMED`` key) into a ``Correlator``.

    Raises:
      ValueError: pointing at the offending position (spec and caret on the following
        lines) and stating the rule that was broken.
    """
    if not isinstance(spec, str):
        raise ValueError(f"a correlator spec is a string like 'f1_a f2_a', got {spec!r}.")
    spec = NAMED.get(spec.strip(), spec)
    i = 0
    while i < len(spec) and spec[i].isspace():
        i += 1
    variance = spec.startswith(VAR_PREFIX, i)
    if variance:
        i += len(VAR_PREFIX)
    factors: list[Factor] = []
    occurrences: dict[str, list[int]] = {}
    while True:
        while i < len(spec) and spec[i].isspace():
            i += 1
        if i == len(spec):
            break
        factor, positions, i = _scan_factor(spec, i)
        factors.append(factor)
        for p in positions:
            occurrences.setdefault(spec[p], []).append(p)
    if not factors:
        raise _error(spec, len(spec), "no factors; write a product like 'f1_a f2_a' "
                                      f"(prefix {VAR_PREFIX!r} for a variance)")
    for letter, where in occurrences.items():
        if len(where) != 2:
            position = where[0] if len(where) == 1 else where[2]
            raise _error(spec, position, f"letter {letter!r} occurs {len(where)} time(s); "
                                         "every derivative letter must occur exactly twice "
                                         "(once per summed pair)")
    return Correlator(tuple(factors), variance)
