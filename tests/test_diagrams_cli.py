"""The ``exact`` and ``diagrams`` commands: JSON out, one-line errors."""

import json
from fractions import Fraction

import pytest

from widenets_nb.__main__ import main

NAMED_ROW6_VAR = "table3.row6"


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_exact_two_point_function_is_the_dot_product(capsys):
    code, out, _ = run(capsys, "exact", "f1 f2", "--depth", "4",
                       "--inputs", "[[1, 2, 3], [0.5, \"1/3\", -1]]")
    assert code == 0
    result = json.loads(out)
    assert result["coefficients"] == {"0": pytest.approx(0.5 + 2 / 3 - 3)}
    assert Fraction(result["exact_coefficients"]["0"]) == Fraction(1, 2) + Fraction(2, 3) - 3
    assert result["leading_exponent"] == 0 and result["n_diagrams"] == 1


def test_exact_row_4_polynomial(capsys):
    # d = 1: two diagrams at n^-1 (letters on U and V), pairings (13)(24) and (14)(23)
    code, out, _ = run(capsys, "exact", "table1.row4", "--depth", "1",
                       "--inputs", "[[1, 0], [0, 2], [3, 1], [1, 1]]")
    assert code == 0
    result = json.loads(out)
    x1, x2, x3, x4 = (1, 0), (0, 2), (3, 1), (1, 1)

    def dot(a, b):
        return sum(u * v for u, v in zip(a, b, strict=True))

    assert result["coefficients"] == {"-1": dot(x1, x3) * dot(x2, x4) + dot(x1, x4) * dot(x2, x3)}
    assert result["conjecture_exponent"] == -1 and result["tight_exponent"] == -1


def test_exact_with_bias_and_default_inputs(capsys):
    code, out, _ = run(capsys, "exact", "f1_a f2_a", "--depth", "2", "--bias", "--seed", "3",
                       "--input-dim", "2")
    assert code == 0
    result = json.loads(out)
    (x1, x2) = result["inputs"]
    # NTK of a biased deep linear net: 3 x1.x2 from U, W1, V plus b1 on its own and via V
    dot = x1[0] * x2[0] + x1[1] * x2[1]
    assert result["coefficients"]["0"] == pytest.approx(3 * dot + 2)


def test_exact_of_a_vanishing_correlator_says_so(capsys):
    code, out, _ = run(capsys, "exact", "table1.row5", "--depth", "1")
    result = json.loads(out)
    assert code == 0 and result["coefficients"] == {} and result["leading_exponent"] is None
    assert "vanishes" in result["note"]


def test_exact_variance_of_the_ntk(capsys):
    # Thm 10: Var[Theta] = O(1/n) although Lemma 6 only bounds it by n^0
    code, out, _ = run(capsys, "exact", "table3.row3", "--depth", "1",
                       "--inputs", "[[1, 2, 0], [3, -1, 1]]")
    result = json.loads(out)
    assert code == 0 and result["spec"] == "var:f1_a f2_a"
    assert result["coefficients"] == {"-1": 5 * 11 + 3 * 1**2}
    assert result["conjecture_exponent"] == 0 and result["tight_exponent"] == -1


def test_diagrams_lists_leading_first(capsys):
    code, out, _ = run(capsys, "diagrams", "f1 f2 f3 f4", "--depth", "2", "--limit", "4")
    result = json.loads(out)
    assert code == 0 and result["n_diagrams"] == 27 and result["shown"] == 4
    assert [d["exponent"] for d in result["diagrams"]] == [0, 0, 0, -1]
    assert result["diagrams"][0]["surfaces"] == ["disc", "disc"]
    assert result["diagrams_by_power"] == {"0": 3, "-1": 12, "-2": 12}


@pytest.mark.parametrize("args,start", [
    (("exact", "f1 f2", "--inputs", "[[1, 2], [3"), "error: --inputs is not valid JSON"),
    (("exact", "f1 f2", "--inputs", "[[1, 2]]"), "error: 'f1 f2' needs one input vector"),
    (("exact", "f1 f2", "--inputs", "[[1, true], [1, 2]]"), "error: --inputs entries"),
    (("exact", "f1 g2"), "error: bad correlator at position 3"),
    (("diagrams", "f1 f2", "--depth", "0"), "error: depth must be a positive integer"),
    (("exact", "var:table1.row6"), "error: bad correlator"),
    (("exact", NAMED_ROW6_VAR), "error: the variance of"),
])
def test_bad_input_is_one_line(capsys, args, start):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(start) and err.count("\n") == 1, err
