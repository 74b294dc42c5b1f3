"""Correlator predictions E[C](n) = infinite_width + coefficient_1_over_n / n + O(n^-2).

From the output moments of ``recursions`` (a single output f = z_{d+1}, so its moments are
those of one component):

    E[f_a f_b]         = K(a,b) + K1(a,b) / n                                (Table 1 row 1),
    E[f_1 f_2 f_3 f_4] = sum_{3 pairings (PQ)} E[G^_P G^_Q]
                       = sum_{(PQ)} K_P K_Q + (1/n) sum_{(PQ)} (K1_P K_Q + K_P K1_Q + V(P, Q))
                                                                              (Table 1 row 2),

since given the last hidden layer f is Gaussian with covariance G^_{d+1}. One recursion on
the distinct inputs gives K, K1 (every average of one or two inputs on a 1-D or 2-D rule,
~1e-13) and V(P, Q) (of four distinct inputs on the 4-D rule, below 1e-8). From
``ntk_recursions`` (2-D quadrature):

    E[Theta(x_1, x_2)]   = Th(1,2) + Th1(1,2) / n                             (Table 1 row 3),
    Var Theta(x_1, x_2)  = (A(12;12) + P(12;12) + P(12;21)) / n               (Table 3 row 3),

and Var f_1 f_2 = E[f_1^2 f_2^2] - E[f_1 f_2]^2 (Table 3 row 1) from the two above. From
``dntk`` (eq. D3 there; four-input averages on the rule of the inputs each involves,
``gaussian.four_moments``, exact for linear networks):

    E[f1_a f2_b f3_ab f4] = 0 + (P1 + P2 + P3)(1, 3, 2, 4) / n                (Table 1 row 4).

Coverage of the tables (Gaussian weights; Table 2's sign weights add fourth cumulants of
the weights that the recursions leave out):

    row  correlator                 Table 1 (mean)              Table 3 (variance)
    1    f1 f2                      kernel                      kernel_variance
    2    f1 f2 f3 f4                four_point (not ReLU with   no (8-point function)
                                    > 2 distinct inputs)
    3    f1_a f2_a                  ntk_mean                    ntk_variance (leading 1/n)
    4    f1_a f2_b f3_ab f4         dntk (not ReLU, whose s''   no (8-point function)
                                    is a delta)
    5    f1_a f2_b f3_c f4_abc      no (ddNTK: needs third-     no
                                    derivative recursions)
    6    f1_a f2_b f3_ab f4_c ...   no (leading order n^-2 needs second-order recursions)

Activations: linear, tanh, erf, gelu, sin, softplus (Price's theorem on quadrature) and
ReLU (closed forms, at most 2 distinct inputs, not parallel). Exact nulls: for ReLU the
1/n coefficients of E[f(x)^2] and E[Theta(x, x)] vanish (scale invariance; in fact at every
order), and a linear network's E[f1 f2] and E[Theta] have none. E[f1_a f2_b f3_ab f4] is
exactly 0 at infinite width (odd in the readout).

Registry contract (``STATISTICS``, stable; entries are added as statistics are tested):

    function, correlator = STATISTICS[name]
    prediction = function(net, x)      # x: (k, D), one row per distinct input label of
                                       # ``correlator`` in sorted order, as for ``exact``
                                       # and ``measure``; a statistic of 2 labels also
                                       # takes 1 row (x_1 = x_2)

``correlator`` is the correlator notation (``correlators.notation``, ``var:`` for Table 3)
and ``prediction`` a ``Prediction`` of 0-d arrays: E[C](n) = infinite_width +
coefficient_1_over_n / n + O(n^-2), n the first hidden width (``net.width`` enters only
through the ratios n / n_l). ``net`` must be a Gaussian-initialized network with an
activation the recursions accept (``recursions.check``); otherwise ValueError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from jax.typing import ArrayLike

from ..correlators.notation import NAMED, parse
from ..nets import Network
from .dntk import dntk_coefficient
from .ntk_recursions import ntk_variance_coefficient, tangent_moments
from .recursions import output_moments, pair_output_moments

PAIRINGS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))


@dataclasses.dataclass(frozen=True)
class Prediction:
    """E[C](n) = infinite_width + coefficient_1_over_n / n + O(n^-2), as float arrays."""

    infinite_width: np.ndarray
    coefficient_1_over_n: np.ndarray

    def at(self, width: float) -> np.ndarray:
        """The first-order prediction at width n."""
        return self.infinite_width + self.coefficient_1_over_n / width


def kernel_matrix(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                  ) -> Prediction:
    """E[f(x_a) f(x_b)] for every pair of the m <= 4 inputs ``x`` (m, D): (m, m) arrays,
    each pair by its own 2-input recursion (2-D quadrature throughout)."""
    m = pair_output_moments(net, x, ratios)
    return Prediction(np.asarray(m.K[:, :, 0, 1]), np.asarray(m.K1[:, :, 0, 1]))


def _rows(name: str, x: ArrayLike, counts: tuple[int, ...]) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] not in counts:
        want = " or ".join(str(c) for c in counts)
        raise ValueError(f"{name} needs {want} input vectors (one per distinct label), "
                         f"got an array of shape {x.shape}.")
    return x


def kernel(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """E[f(x_1) f(x_2)] (Table 1 row 1) for ``x`` (2, D), or E[f(x_1)^2] for (1, D), by
    the recursion on these inputs (2-D quadrature, or ReLU's closed forms)."""
    m = output_moments(net, _rows("kernel", x, (1, 2)), ratios)
    return Prediction(np.asarray(m.K[0, -1]), np.asarray(m.K1[0, -1]))


def four_point(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """E[f(x_1) f(x_2) f(x_3) f(x_4)] for four inputs ``x`` (4, D) (rows may repeat).

    The recursion runs on the distinct rows only, every Gaussian average on the rule of
    the inputs it involves (``gaussian.four_moments``): K and K1 are those of the 2-input
    recursions (~1e-13), V(P, Q) of four distinct inputs carries the 4-D rule's error
    (below 1e-8, ``quadrature``); with at most 2 distinct rows ReLU's closed forms apply."""
    x = _rows("four_point", x, (4,))
    rows, label = np.unique(x, axis=0, return_inverse=True)
    label = label.reshape(-1)
    m = output_moments(net, rows, ratios)
    k, k1, v = (np.asarray(a) for a in (m.K, m.K1, m.V))
    pairings = [(tuple(label[list(p)]), tuple(label[list(q)])) for p, q in PAIRINGS]
    lead = sum(k[p] * k[q] for p, q in pairings)
    first = sum(k1[p] * k[q] + k[p] * k1[q] + v[p + q] for p, q in pairings)
    return Prediction(np.asarray(lead), np.asarray(first))


def kernel_variance(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                    ) -> Prediction:
    """Var_theta f(x_1) f(x_2) (Table 3 row 1, ``var:f1 f2``) for ``x`` (2, D) or (1, D):
    E[f_1^2 f_2^2] - E[f_1 f_2]^2 from ``four_point`` on (x_1, x_1, x_2, x_2) and
    ``kernel``; it is O(1), with the 1/n coefficient F1 - 2 K K1."""
    x = _rows("kernel_variance", x, (1, 2))
    square = four_point(net, x[[0, 0, -1, -1]], ratios)
    mean = kernel(net, x, ratios)
    return Prediction(square.infinite_width - mean.infinite_width**2,
                      square.coefficient_1_over_n
                      - 2 * mean.infinite_width * mean.coefficient_1_over_n)


def ntk_mean(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """E[Theta(x_1, x_2)] = sum_mu E[d_mu f(x_1) d_mu f(x_2)] (Table 1 row 3, ``f1_a f2_a``)
    for ``x`` (2, D), or E[Theta(x_1, x_1)] for (1, D): Th_{d+1} + Th1_{d+1} / n of
    ``ntk_recursions`` (2-D quadrature)."""
    x = _rows("ntk_mean", x, (1, 2))
    t = tangent_moments(net, x, ratios)
    return Prediction(np.asarray(t.Theta[0, -1]), np.asarray(t.Theta1[0, -1]))


def ntk_variance(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """Var_theta Theta(x_1, x_2) (Table 3 row 3, ``var:f1_a f2_a``) for ``x`` (2, D) or
    (1, D): 0 at infinite width (the NTK is frozen) and (A + P + P^T) / n, the leading
    coefficient of ``ntk_recursions`` (its O(n^-2) term is not computed)."""
    x = _rows("ntk_variance", x, (1, 2))
    coefficient = ntk_variance_coefficient(tangent_moments(net, x, ratios))[0, -1]
    return Prediction(np.zeros(()), np.asarray(coefficient))


def dntk(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """sum_{mu nu} E[d_mu f_1 d_nu f_2 d_mu d_nu f_3 f_4] (Table 1 row 4,
    ``f1_a f2_b f3_ab f4``) for ``x`` (4, D) (rows may repeat): 0 at infinite width and the
    leading coefficient (P1 + P2 + P3)(1, 3, 2, 4) of ``dntk`` (its O(n^-2) term is not
    computed). Smooth activations only (ReLU's s'' is a delta)."""
    x = _rows("dntk", x, (4,))
    return Prediction(np.zeros(()), np.asarray(dntk_coefficient(net, x, ratios)))


def connected_four_point(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                         ) -> np.ndarray:
    """The 1/n coefficient of the fourth cumulant of f: V(12,34) + V(13,24) + V(14,23) for
    every quadruple of the m inputs, (m, m, m, m)."""
    v = np.asarray(output_moments(net, x, ratios).V)
    return sum(np.einsum(f"{spec}->abcd", v) for spec in ("abcd", "acbd", "adbc"))


#: name -> (function, correlator): the registry of the module docstring's contract.
STATISTICS: dict[str, tuple[Callable[..., Prediction], str]] = {
    "kernel": (kernel, "f1 f2"),
    "four_point": (four_point, "f1 f2 f3 f4"),
    "ntk_mean": (ntk_mean, "f1_a f2_a"),
    "ntk_variance": (ntk_variance, "var:f1_a f2_a"),
    "kernel_variance": (kernel_variance, "var:f1 f2"),
    "dntk": (dntk, "f1_a f2_b f3_ab f4"),
}


def for_correlator(spec: str) -> str | None:
    """The ``STATISTICS`` name whose correlator is ``spec`` (notation, or a table row's name
    such as ``"table1.row3"``), or None where the recursions do not cover it."""
    c = parse(NAMED.get(spec, spec))
    return next((name for name, (_, corr) in STATISTICS.items() if parse(corr) == c), None)
