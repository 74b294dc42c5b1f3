"""Perfect matchings and the index loops of two matchings (Isserlis, eq. 16-18; Def. 3).

A Wick pairing of the m tensors at one layer type is a perfect matching of (a subset of)
the vertices 0..m-1, stored as a sorted tuple of sorted pairs. The hidden index at layer l
is shared by the matchings of the two layer types around it, so its free index sums are
the cycles of the union of those two matchings: ``loop_counts``.
"""

from __future__ import annotations

import itertools

import numpy as np

Pair = tuple[int, int]
Matching = tuple[Pair, ...]


def perfect_matchings(vertices: tuple[int, ...]) -> list[Matching]:
    """All (|vertices| - 1)!! perfect matchings of ``vertices`` (empty for an odd count).

    >>> perfect_matchings((0, 1, 2, 3))
    [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    """
    vertices = tuple(sorted(vertices))
    if len(vertices) % 2:
        return []
    if not vertices:
        return [()]
    first, rest = vertices[0], vertices[1:]
    out: list[Matching] = []
    for i, partner in enumerate(rest):
        for tail in perfect_matchings(rest[:i] + rest[i + 1:]):
            out.append(tuple(sorted(((first, partner),) + tail)))
    return out


def matchings_of_subsets(m: int) -> list[Matching]:
    """Perfect matchings of every even subset of 0..m-1 (the empty matching included)."""
    out: list[Matching] = []
    for size in range(0, m + 1, 2):
        for subset in itertools.combinations(range(m), size):
            out.extend(perfect_matchings(subset))
    return out


def support(matching: Matching) -> frozenset[int]:
    """The vertices a matching covers."""
    return frozenset(v for pair in matching for v in pair)


def partners(matchings: list[Matching], m: int) -> np.ndarray:
    """(S, m) array: partner of each vertex, or the vertex itself where it is uncovered."""
    out = np.tile(np.arange(m), (len(matchings), 1))
    for s, matching in enumerate(matchings):
        for a, b in matching:
            out[s, a], out[s, b] = b, a
    return out


def loop_counts(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Cycles of the union of every pair of matchings on the same vertex set (index loops).

    Args:
      lower: (S1, m) partner arrays (``partners``); upper: (S2, m) partner arrays. Rows
        must cover the same vertices (uncovered vertices are their own partners).

    Returns:
      (S1, S2) integer array. A cycle of the union with 2k edges is two k-cycles of the
      permutation lower o upper, and uncovered vertices are its fixed points, so
      loops = (cycles(lower o upper) - uncovered) / 2.
    """
    s1, m = lower.shape
    perm = np.take_along_axis(
        np.broadcast_to(lower[:, None, :], (s1, len(upper), m)),
        np.broadcast_to(upper[None, :, :], (s1, len(upper), m)), axis=2)
    start = np.arange(m)
    pos = perm.copy()
    length = np.zeros(perm.shape, dtype=np.int64)
    for k in range(1, m + 1):
        hit = (pos == start) & (length == 0)
        length[hit] = k
        pos = np.take_along_axis(perm, pos, axis=2)
    cycles = np.sum(1.0 / length, axis=2)
    uncovered = np.sum(lower == start, axis=1)
    return (np.rint(cycles).astype(np.int64) - uncovered[:, None]) // 2


def loop_table(matchings: list[Matching], m: int) -> np.ndarray:
    """``loop_counts`` between all pairs of perfect matchings of one vertex set, by symmetry.

    Relabelling the vertices by a permutation pi that takes P to the first matching P_0
    keeps every cycle, so loops(P, Q) = loops(P_0, pi(Q)): one row of ``loop_counts`` and a
    relabelled lookup per P, instead of walking every pair.
    """
    part = partners(matchings, m)
    row = loop_counts(part[:1], part)[0]
    powers = m ** np.arange(m, dtype=np.int64)
    keys = part @ powers
    order = np.argsort(keys)
    out = np.empty((len(matchings), len(matchings)), dtype=np.int64)
    for i, p in enumerate(matchings):
        pi = np.arange(m)
        for (a, b), (c, d) in zip(p, matchings[0], strict=True):
            pi[a], pi[b] = c, d
        inverse = np.argsort(pi)
        relabelled = pi[part][:, inverse]  # partner of pi(v) in pi(Q) is pi(partner of v)
        out[i] = row[order[np.searchsorted(keys[order], relabelled @ powers)]]
    return out
