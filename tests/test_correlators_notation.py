"""The correlator notation: round trips, table rows, and every parse error."""

import pytest

from widenets_nb.correlators import NAMED, Correlator, Factor, parse


@pytest.mark.parametrize("spec", sorted(set(NAMED.values())) + ["f1_aa", "f1_a f1_a",
                                                                   "f2_ab f1_ab f3"])
def test_round_trip(spec):
    c = parse(spec)
    assert c.text == spec
    assert parse(c.text) == c


def test_whitespace_and_names_normalize():
    assert parse("  var:  f1_a   f2_a ").text == "var:f1_a f2_a"
    assert parse("table1.row4") == parse("f1_a f2_b f3_ab f4")
    assert parse("table3.row3") == Correlator((Factor(1, ("a",)), Factor(2, ("a",))), True)


def test_structure():
    c = parse("f1_a f2_b f3_ab f4_c f5_d f6_cd")
    assert c.m == 6
    assert c.contractions == (("a", (0, 2)), ("b", (1, 2)), ("c", (3, 5)), ("d", (4, 5)))
    assert c.inputs == (1, 2, 3, 4, 5, 6)
    assert c.factors[2] == Factor(3, ("a", "b"))
    trace = parse("f1_aa f1")
    assert trace.contractions == (("a", (0, 0)),)
    assert trace.inputs == (1,)


def test_latex():
    assert parse("f1_a f2_b f3_ab f4").latex == (
        r"\sum_{\mu\nu} \mathbb{E}_\theta\left[\partial_{\mu}f(x_{1})\,\partial_{\nu}f(x_{2})"
        r"\,\partial_{\mu}\partial_{\nu}f(x_{3})\,f(x_{4})\right]"
    )
    assert parse("var:f1 f2").latex == r"\mathrm{Var}_\theta\left[f(x_{1})\,f(x_{2})\right]"


@pytest.mark.parametrize(
    ("spec", "position", "rule"),
    [
        ("", 0, "no factors"),
        ("var:", 4, "no factors"),
        ("g1", 0, "a factor is 'f'"),
        ("f1 x2", 3, "a factor is 'f'"),
        ("f", 1, "missing input number"),
        ("f_a f1_a", 1, "missing input number"),
        ("f0", 1, "start at 1"),
        ("f01", 1, "start at 1"),
        ("f1_", 3, "'_' must be followed"),
        ("f1_ f2", 3, "'_' must be followed"),
        ("f1_aB f2_a", 4, "lowercase a-z"),
        ("f1f2", 2, "unexpected 'f'"),
        ("f1_a,f2_a", 4, "separated by spaces"),
        ("f1_a f2", 3, "occurs 1 time"),
        ("f1_a f2_a f3_a", 13, "occurs 3 time"),
        ("f1_ab f2_a", 4, "letter 'b' occurs 1"),
    ],
)
def test_errors_point_and_explain(spec, position, rule):
    with pytest.raises(ValueError) as info:
        parse(spec)
    first, shown, caret = str(info.value).split("\n")
    assert f"position {position}:" in first
    assert rule in first
    assert shown == "  " + spec
    assert caret == "  " + " " * position + "^"


def test_non_string():
    with pytest.raises(ValueError, match="string"):
        parse(3)
