"""The notebook-02 experiments: protocols, tables, census, biases, exact vs Monte Carlo."""

import numpy as np
import pytest

from widenets_nb import paper
from widenets_nb.correlators import NAMED
from widenets_nb.correlators.estimate import default_inputs
from widenets_nb.diagrams import (
    MonteCarloProtocol,
    TightnessProtocol,
    bias_comparison,
    describe,
    diagram_step,
    exact_correlator,
    exact_vs_monte_carlo,
    lemma2_census,
    polynomial_text,
    tightness,
    tightness_table,
    variance_table,
)


def test_protocols_per_profile():
    quick, standard, full = (MonteCarloProtocol.for_profile(p)
                             for p in ("quick", "standard", "paper"))
    assert (quick.widths, quick.inits) == ((2, 8), 2000)
    assert (standard.widths, standard.inits) == ((2, 4, 8, 16, 64), 4000)
    assert (full.widths, full.inits) == ((2, 4, 8, 16, 32, 64, 128), 20000)
    assert {p.spec for p in (quick, standard, full)} == {"table1.row4"}
    assert [TightnessProtocol.for_profile(p).depths for p in ("quick", "standard", "paper")
            ] == [(1, 2, 3), (1, 2, 3, 4), (1, 2, 3, 4, 5)]


def test_polynomial_text():
    assert polynomial_text({0: 3, -1: 12, -2: 0.5}) == "3 +12/n +0.5/n^2"
    assert polynomial_text({}) == "0"


def test_describe_quotes_counts_exponents_and_terms():
    text = describe(exact_correlator("table1.row5", 3))
    assert "72 diagrams; by power of n: {-2: 36, -3: 36}" in text
    assert "Tight exponent max s_gamma = -2, Conjecture 1: s_C = -1." in text
    assert "- $n^{-2}$: 12 `x1.x2 x3.x4` + 12 `x1.x3 x2.x4` + 12 `x1.x4 x2.x3`" in text


def test_diagram_step_and_its_errors():
    step = diagram_step("table1.row5", 2, number=4)
    assert (step.number, step.total, step.is_sorted) == (4, 6, True)
    assert step.summary().startswith("diagram 4 of 6 (highest power first)")
    assert "Lemma 2: s = chi - m/2 = -2 <= c - m/2 = -1" in step.summary()
    with pytest.raises(ValueError, match="vanishes identically"):
        diagram_step("f1 f2 f3", 2)
    with pytest.raises(ValueError, match="only 6 diagrams"):
        diagram_step("table1.row5", 2, number=7)


def test_tightness_explains_the_starred_row():
    t = tightness(NAMED["table1.row5"], 2)
    assert (t.conjecture, t.lemma2, t.tight) == (-1, -1, -2) and not t.is_tight
    assert t.leading_surfaces == {"Moebius band": 6}
    t = tightness(NAMED["table1.row4"], 2)
    assert t.is_tight and t.leading_surfaces == {"disc": 8}
    assert tightness(NAMED["table1.row6"], 3, max_diagrams=100).lemma2 is None


def test_tightness_table_stars_row_5_and_marks_vanishing_entries():
    table = tightness_table(TightnessProtocol(rows=(4, 5), depths=(1, 2)))
    assert [(t.spec, t.depth) for t in table.entries] == [
        (NAMED["table1.row4"], 1), (NAMED["table1.row4"], 2),
        (NAMED["table1.row5"], 1), (NAMED["table1.row5"], 2)]
    lines = table.markdown().splitlines()
    assert len(lines) == 2 + 4
    assert lines[4].endswith("| 1 | -1 | – | C ≡ 0 | – |")  # row 5 vanishes at d = 1
    assert lines[5].endswith("| 2 | -1 | -1 | -2 * | 6 Moebius band |")
    assert "*" not in lines[2] + lines[3]


def test_variance_table_against_lemma_6_and_the_paper():
    table = variance_table(depth=3)
    assert [v.tight_exponent for v in table.variances] == [0, 0, -1, -2, -4]
    assert [v.conjecture_exponent for v in table.variances] == [0, 0, 0, -2, -2]
    assert table.paper == paper.TABLES["table3"]["linear"][:5]
    # the paper's fits (linear, d = 3) land within 0.1 of the exact exponents
    assert all(abs(v.tight_exponent - p) <= 0.1 + 1e-9
               for v, p in zip(table.variances, table.paper, strict=True))
    assert "| `var:f1_a f2_b f3_c f4_abc` | -2 | -4 | -4.02 |" in table.markdown()


def test_lemma2_census_obeys_lemma_2():
    census = lemma2_census("table1.row6", 2)
    m = 6
    assert len(census.exponents) == exact_correlator("table1.row6", 2).n_diagrams
    for s, bound, chi in zip(census.exponents, census.bounds, census.eulers, strict=True):
        assert s == chi - m / 2 and s <= bound


def test_bias_comparison_shares_one_draw_of_inputs():
    specs = ("f1 f2", "f1 f2 f3 f4")
    b = bias_comparison(specs, 3, seed=5)
    np.testing.assert_array_equal(b.inputs, default_inputs(4, 4, 5))
    # the first two rows are the draw a two-input correlator alone would get
    np.testing.assert_array_equal(b.inputs[:2], default_inputs(2, 4, 5))
    x1, x2 = b.inputs[:2]
    assert b.plain[0].coefficients(b.inputs[:2]) == {0: pytest.approx(x1 @ x2)}
    # biases add (d - 1) unit-variance terms to K(x1, x2) = x1.x2 at d = 3 (App. B.3)
    assert b.biased[0].coefficients(b.inputs[:2]) == {0: pytest.approx(x1 @ x2 + 2)}
    lines = b.markdown().splitlines()
    assert len(lines) == 4 and lines[2] == f"| `f1 f2` | {x1 @ x2:.4g} | {x1 @ x2 + 2:.4g} |"


def test_exact_agrees_with_the_correlator_estimator(tmp_path, monkeypatch):
    monkeypatch.setattr("widenets_nb.config.CACHE_DIR", tmp_path)
    protocol = MonteCarloProtocol("f1_a f2_b f3_ab f4", depth=2, widths=(2,), inits=2000,
                                  seed=4)
    r = exact_vs_monte_carlo(protocol)
    assert np.all(np.abs(r.z_scores) < 4), r.z_scores
    assert np.all(r.stderr < 0.25 * np.abs(r.exact))
    assert r.monte_carlo.counts == (2000,) and r.monte_carlo.predicted == -1
    assert r.markdown().count("\n") == 2
    again = exact_vs_monte_carlo(protocol)  # from the disk cache
    np.testing.assert_array_equal(again.values, r.values)
