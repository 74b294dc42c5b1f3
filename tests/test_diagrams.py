"""Feynman diagrams: enumeration, double-line loops, surfaces, and the transfer-matrix sums."""

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from widenets_nb.correlators import NAMED, parse
from widenets_nb.correlators.clusters import predict
from widenets_nb.diagrams import exact_correlator, feynman_diagrams, leading_diagrams
from widenets_nb.diagrams.matchings import loop_counts, loop_table, partners, perfect_matchings

TABLE_ROWS = [NAMED[f"table1.row{i}"] for i in range(1, 7)]
SMALL = [(spec, depth, bias) for spec in TABLE_ROWS for depth in (1, 2, 3) for bias in (False,)
         if not (spec.count("f") == 6 and depth == 3)]
SMALL += [(spec, 3, True) for spec in ("f1 f2 f3 f4", "f1_a f2_a f3 f4", "f1_a f2_b f3_ab f4")]


def test_perfect_matchings_are_all_distinct_and_counted_by_double_factorial():
    for m in range(0, 9, 2):
        found = perfect_matchings(tuple(range(m)))
        assert len(found) == len(set(found)) == math.prod(range(m - 1, 0, -2))
        assert all(sorted(v for pair in q for v in pair) == list(range(m)) for q in found)


def test_loop_counts_against_a_walk_around_the_cycles():
    rng = np.random.default_rng(0)
    qs = perfect_matchings(tuple(range(8)))
    picks = [qs[i] for i in rng.choice(len(qs), 12, replace=False)]
    counts = loop_counts(partners(picks, 8), partners(picks, 8))
    for (i, p), (j, q) in itertools.product(enumerate(picks), repeat=2):
        mate_p = {a: b for x, y in p for a, b in ((x, y), (y, x))}
        mate_q = {a: b for x, y in q for a, b in ((x, y), (y, x))}
        seen, cycles = set(), 0
        for start in range(8):
            if start in seen:
                continue
            cycles += 1
            v = start
            while True:  # alternate p- and q-edges until the walk closes
                seen.update((v, mate_p[v]))
                v = mate_q[mate_p[v]]
                if v == start:
                    break
        assert counts[i, j] == cycles
    assert np.all(np.diag(counts) == 4)  # a matching with itself: every edge a 2-cycle


@pytest.mark.parametrize("vertices", [(0, 1, 2, 3, 4, 5, 6, 7), (0, 2, 3, 5, 7, 8)])
def test_loop_table_by_relabelling_equals_the_direct_count(vertices):
    qs = perfect_matchings(vertices)
    direct = loop_counts(partners(qs, 10), partners(qs, 10))
    assert np.array_equal(loop_table(qs, 10), direct)


@pytest.mark.parametrize("spec,depth,bias", SMALL)
def test_enumerated_diagrams_reproduce_the_transfer_matrix_counts(spec, depth, bias):
    # Two independent routes: explicit diagrams with loops counted on the double-line
    # graph (networkx) vs the transfer matrix over matchings of neighbouring layers.
    exact = exact_correlator(spec, depth, bias=bias)
    by_pairing = Counter((g.u_pairing, -g.exponent) for g in feynman_diagrams(spec, depth, bias))
    expected = Counter({(pairing, k): int(count)
                        for pairing, row in zip(exact.pairings, exact.counts, strict=True)
                        for k, count in enumerate(row) if count})
    assert by_pairing == expected


@pytest.mark.parametrize("spec,depth,bias", SMALL)
def test_every_diagram_is_a_surface_obeying_lemma_2(spec, depth, bias):
    m = parse(spec).m
    for g in feynman_diagrams(spec, depth, bias):
        assert g.exponent == g.euler - m / 2  # s_gamma = chi - m/2
        assert g.exponent <= g.n_components - m / 2  # Lemma 2
        parts = g.components()
        assert sum(c.euler for c in parts) == g.euler
        assert sum(c.boundaries for c in parts) == g.boundaries
        for c in parts:
            assert c.boundaries >= 1 and c.closed_euler <= 2
            assert len(c.tensors) % 2 == 0
            if c.orientable:  # chi of a closed orientable surface is 2 - 2 genus
                assert c.closed_euler % 2 == 0
        dl = g.double_line_graph()
        assert all(deg == 2 for _, deg in dl.degree())  # Def. 3: a union of loops
        assert len({e.loop for e in g.double_line_edges()}) == g.loops


def test_tight_exponents_of_table_1_at_depth_3():
    tight = [exact_correlator(spec, 3).tight_exponent for spec in TABLE_ROWS]
    assert tight == [0, 0, 0, -1, -2, -2]
    conjecture = [predict(spec).s for spec in TABLE_ROWS]
    assert conjecture == [0, 0, 0, -1, -1, -2]
    assert all(t <= s for t, s in zip(tight, conjecture, strict=True))


def test_starred_row_has_no_disc_diagrams():
    # Row 5 is O(n^-2), not n^-1: no diagram is a disc (chi = 1); the leading ones are
    # Moebius bands (chi = 0, one boundary, not orientable); the row vanishes at d = 1.
    spec = NAMED["table1.row5"]
    assert exact_correlator(spec, 1).tight_exponent is None
    for depth in (2, 3, 4):
        exact = exact_correlator(spec, depth)
        assert exact.tight_exponent == -2
    leading = [g for g in feynman_diagrams(spec, 3) if g.exponent == -2]
    assert leading and all(g.euler == 0 and g.boundaries == 1 and g.n_components == 1
                           and not g.components()[0].orientable for g in leading)


def test_leading_diagrams_come_first():
    diagrams, is_sorted = leading_diagrams("f1 f2 f3 f4", 2, limit=5)
    assert is_sorted and len(diagrams) == 5
    assert [g.exponent for g in diagrams] == [0, 0, 0, -1, -1]
    assert [g.n_components for g in diagrams[:3]] == [2, 2, 2]


def test_odd_and_trace_correlators_vanish():
    for spec in ("f1 f2 f3", "f1_aa f2 f3", "f1_aa f2_bb"):
        exact = exact_correlator(spec, 2)
        assert exact.tight_exponent is None and exact.n_diagrams == 0
        assert exact.coefficients([[1, 2]] * len(parse(spec).inputs)) == {}
        assert list(feynman_diagrams(spec, 2)) == []


def test_double_contraction_by_hand():
    # d = 1: f = n^{-1/2} sum_i v_i u_i.x, so d_{v_i} d_{u_ik} f = n^{-1/2} x_k and
    # sum_{mu nu} E[d_mu d_nu f(x1) d_mu d_nu f(x2)] = 2 x1.x2 (mu, nu in either order).
    exact = exact_correlator("f1_ab f2_ab", 1)
    assert exact.coefficients([[1, 2], [3, -5]]) == {0: 2 * (3 - 10)}
