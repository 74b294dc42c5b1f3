"""Correlator predictions E[C](n) = infinite_width + coefficient_1_over_n / n + O(n^-2).

From the output moments of ``recursions`` (a single output f = z_{d+1}, so its moments are
those of one component):

    E[f_a f_b]         = K(a,b) + K1(a,b) / n                                (Table 1 row 1),
    E[f_1 f_2 f_3 f_4] = sum_{3 pairings (PQ)} E[G^_P G^_Q]
                       = sum_{(PQ)} K_P K_Q + (1/n) sum_{(PQ)} (K1_P K_Q + K_P K1_Q + V(P, Q))
                                                                              (Table 1 row 2),

since given the last hidden layer f is Gaussian with covariance G^_{d+1}. K and K1 come
from each pair's own 2-input recursion (2-D quadrature, ~1e-13); V(P, Q) of four distinct
inputs needs the 4-input recursion and its 4-D rule (~1e-5 relative for tanh).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from jax.typing import ArrayLike

from ..nets import Network
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


def kernel(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """E[f(x_a) f(x_b)] for every pair of the m <= 4 inputs ``x`` (m, D): (m, m) arrays,
    each pair by its own 2-input recursion (2-D quadrature throughout)."""
    m = pair_output_moments(net, x, ratios)
    return Prediction(np.asarray(m.K[:, :, 0, 1]), np.asarray(m.K1[:, :, 0, 1]))


def four_point(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Prediction:
    """E[f(x_1) f(x_2) f(x_3) f(x_4)] for four inputs ``x`` (4, D) (rows may repeat)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != 4:
        raise ValueError(f"four_point needs exactly 4 input vectors, got shape {x.shape}.")
    pairs = kernel(net, x, ratios)
    k, k1 = pairs.infinite_width, pairs.coefficient_1_over_n
    v = np.asarray(output_moments(net, x, ratios).V)
    lead = sum(k[p] * k[q] for p, q in PAIRINGS)
    first = sum(k1[p] * k[q] + k[p] * k1[q] + v[p + q] for p, q in PAIRINGS)
    return Prediction(np.asarray(lead), np.asarray(first))


def connected_four_point(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                         ) -> np.ndarray:
    """The 1/n coefficient of the fourth cumulant of f: V(12,34) + V(13,24) + V(14,23) for
    every quadruple of the m inputs, (m, m, m, m)."""
    v = np.asarray(output_moments(net, x, ratios).V)
    return sum(np.einsum(f"{spec}->abcd", v) for spec in ("abcd", "acbd", "adbc"))
