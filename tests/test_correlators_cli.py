"""``predict`` and ``measure`` on the command line: JSON out, one-line errors, exit 2."""

import json

import numpy as np
import pytest

from widenets_nb.__main__ import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict(capsys):
    code, out, _ = _run(capsys, "predict", "f1_a f2_b f3_ab f4_c f5_d f6_cd")
    assert code == 0
    assert json.loads(out) == {"spec": "f1_a f2_b f3_ab f4_c f5_d f6_cd", "m": 6, "n_e": 0,
                               "n_o": 2, "s": -2.0}
    code, out, _ = _run(capsys, "predict", "table3.row5")
    assert json.loads(out)["s"] == -2.0


def test_measure_linear_nngp(capsys):
    # Deep linear: E[f1 f2] = x1.x2 at every width, so the fitted slope is near 0.
    inputs = [[1.0, 0.5, 0.0, 0.0], [1.0, 0.0, 0.5, 0.0]]
    code, out, _ = _run(capsys, "measure", "f1 f2", "--activation", "linear", "--depth", "2",
                        "--widths", "4,8,16", "--inits", "400", "--seed", "1",
                        "--inputs", json.dumps(inputs))
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"widths", "mean", "stderr", "slope", "slope_ci", "predicted",
                           "unresolved"}
    assert result["widths"] == [4, 8, 16] and result["predicted"] == 0.0
    for mean, se in zip(result["mean"], result["stderr"], strict=True):
        assert abs(mean - 1.0) < 4 * se
    # no width dependence: the 95% interval covers the true exponent 0, and its width is
    # that of a weighted least-squares slope with sigma_log = stderr / mean (within 2x)
    low, high = result["slope_ci"]
    assert low <= 0.0 <= high
    x = np.log(result["widths"])
    w = (np.array(result["mean"]) / np.array(result["stderr"])) ** 2
    se = 1 / np.sqrt(np.sum(w * (x - np.average(x, weights=w)) ** 2))
    assert 0.5 < (high - low) / (2 * 1.96 * se) < 2
    assert result["unresolved"] == [] and "not_fittable" not in result
    # the 1/n theory of a deep linear E[f1 f2]: x1.x2 at every width, no 1/n term
    theory = result["theory"]
    assert theory["statistic"] == "kernel"
    assert theory["infinite_width"] == pytest.approx(1.0, rel=1e-12)
    assert abs(theory["coefficient_1_over_n"]) < 1e-12
    assert theory["at_widths"] == pytest.approx([1.0] * 3, rel=1e-12)


@pytest.mark.parametrize(("argv", "message"), [
    (["predict", "f1_a f2"], "position 3"),
    (["measure", "f1 f2", "--widths", "8,x"], "--widths"),
    (["measure", "f1 f2", "--inputs", "[[1,2"], "--inputs is not JSON"),
    (["measure", "f1 f2", "--inputs", "[[1,2,3,4]]"], "one input per distinct label"),
    (["measure", "f1 f2", "--widths", "8", "--inits", "1"], "inits"),
])
def test_errors_are_one_line(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error:") and message in err
