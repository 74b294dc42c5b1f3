"""Tables 1-3 of the paper: fitted width exponents of the six correlators.

Table 1: Gaussian weights; Table 2: weights uniform on {+1, -1}; Table 3: the variance of
the Table 1 integrands (Lemma 6, exponent at most 2 s_C). Protocol (App. A.2): 3 hidden
layers, widths 2^7..2^13, 1000 initializations, random inputs of dimension 4; the quick and
standard profiles use fewer and smaller widths. Every width is one cached unit, so an
interrupted ``reproduce`` resumes; Table 3 reuses the Table 1 samples.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .. import config
from ..fits import Fit, NotFittable, fit_exponent
from ..reproduce import Report
from .clusters import predict
from .estimate import default_inputs, measure_all, widths_from_exponents
from .notation import NAMED, parse

ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "tanh")
TOLERANCE = 0.15

#: The paper's fitted exponents, rows 1..6, per activation.
PAPER: dict[str, dict[str, tuple[float, ...]]] = {
    "table1": {"linear": (-0.02, -0.01, 0.00, -0.98, -2.01, -2.05),
               "relu": (0.003, 0.03, 0.00, -1.03, -2.01, -2.01),
               "tanh": (-0.02, -0.03, 0.00, -1.01, -0.98, -1.99)},
    "table2": {"linear": (0.00, -0.07, 0.0, -1.02, -2.00, -2.05),
               "relu": (0.00, 0.06, 0.0, -1.01, -1.99, -2.01),
               "tanh": (0.02, -0.02, 0.0, -0.97, -2.02, -1.99)},
    "table3": {"linear": (-0.08, -0.03, -1.01, -2.1, -4.02, -4.09),
               "relu": (-0.00, 0.02, -1.02, -2.13, -4.1, -4.14),
               "tanh": (-0.02, -0.05, -0.99, -2.14, -3.05, -4.01)},
}
INIT = {"table1": "gaussian", "table2": "sign", "table3": "gaussian"}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The measurement settings of a profile.

    Attributes:
      widths: the hidden-layer widths.
      inits: initializations per width.
      depth: hidden layers.
      input_dim: D.
      seed: derives the initializations.
      input_seed: derives the inputs (``default_inputs``: U[0, 1]^D).
    """

    widths: tuple[int, ...]
    inits: int
    depth: int = 3
    input_dim: int = 4
    seed: int = 0
    input_seed: int = 0


def protocol(profile: str | None = None) -> Protocol:
    """The settings for ``profile`` (paper: the paper's exact protocol)."""
    return config.pick({
        "quick": Protocol(widths_from_exponents(3, 5), 100),
        "standard": Protocol(widths_from_exponents(6, 9), 1000),
        "paper": Protocol(widths_from_exponents(7, 13), 1000),
    }, profile)


def _fit_record(fit: Fit | None, error: str | None, paper: float) -> dict[str, Any]:
    if fit is None:
        return {"fittable": False, "error": error, "paper": paper}
    return {"fittable": True, "slope": round(fit.slope, 4),
            "slope_ci": [round(v, 4) for v in fit.slope_ci], "paper": paper,
            "within_tolerance": abs(fit.slope - paper) <= TOLERANCE,
            "values": list(fit.values), "stderr": list(fit.stderr),
            "unresolved": list(fit.unresolved)}


def table(name: str, profile: str | None = None,
          activations: tuple[str, ...] = ACTIVATIONS, progress: bool = True) -> Report:
    """Measure and fit the six rows of ``name`` (table1, table2, table3) in ``profile``."""
    if name not in PAPER:
        raise ValueError(f"unknown table {name!r}; choose one of {', '.join(PAPER)}.")
    p = protocol(profile)
    specs = [NAMED[f"{name}.row{i}"] for i in range(1, 7)]
    xs = default_inputs(6, p.input_dim, p.input_seed)
    fits: dict[str, list[dict[str, Any]]] = {}
    for activation in activations:
        measurements = measure_all(specs, p.widths, p.inits, p.seed, activation=activation,
                                   depth=p.depth, init=INIT[name], input_dim=p.input_dim,
                                   inputs=xs, use_cache=True, progress=progress)
        fits[activation] = []
        for i, m in enumerate(measurements):
            try:
                fit, error = fit_exponent(m.widths, m.samples, m.statistic, seed=p.seed), None
            except NotFittable as err:
                fit, error = None, str(err)
            fits[activation].append(_fit_record(fit, error, PAPER[name][activation][i]))
    rows = []
    for i, spec in enumerate(specs):
        prediction = predict(spec)
        rows.append({"row": i + 1, "spec": spec, "latex": parse(spec).latex,
                     "n_e": prediction.n_e, "n_o": prediction.n_o, "predicted": prediction.s,
                     "fits": {a: fits[a][i] for a in activations}})
    payload = {"table": name, "init": INIT[name],
               "statistic": "variance" if name == "table3" else "mean",
               "protocol": {**dataclasses.asdict(p), "inputs": xs.tolist()},
               "tolerance": TOLERANCE, "rows": rows}
    return Report(payload, markdown(payload))


def _cell(record: dict[str, Any]) -> str:
    if not record["fittable"]:
        return f"not fittable (paper {record['paper']:+.2f})"
    low, high = record["slope_ci"]
    flag = "" if record["within_tolerance"] else " ✗"
    unresolved = f", unresolved n={record['unresolved']}" if record["unresolved"] else ""
    return (f"{record['slope']:+.2f} [{low:+.2f}, {high:+.2f}] "
            f"(paper {record['paper']:+.2f}){flag}{unresolved}")


def markdown(payload: dict[str, Any]) -> str:
    """A Markdown table: prediction, fitted exponent [95% CI] and the paper's value."""
    activations = list(payload["rows"][0]["fits"])
    p = payload["protocol"]
    bound = "2 s_C" if payload["statistic"] == "variance" else "s_C"
    lines = [
        f"Fitted exponent of |{payload['statistic']}| vs width n, {payload['init']} weights, "
        f"depth {p['depth']}, widths {p['widths']}, {p['inits']} initializations, inputs "
        f"U[0,1]^{p['input_dim']} (seed {p['input_seed']}); ✗ marks a fit more than "
        f"{payload['tolerance']} from the paper.",
        "",
        f"| row | correlator | n_e, n_o | {bound} | " + " | ".join(activations) + " |",
        "|---|---|---|---|" + "---|" * len(activations),
    ]
    for row in payload["rows"]:
        cells = " | ".join(_cell(row["fits"][a]) for a in activations)
        lines.append(f"| {row['row']} | `{row['spec']}` | {row['n_e']}, {row['n_o']} | "
                     f"{row['predicted']:+g} | {cells} |")
    return "\n".join(lines)


def table1(profile: str) -> Report:
    """Table 1: Gaussian weights."""
    return table("table1", profile)


def table2(profile: str) -> Report:
    """Table 2: weights uniform on {+1, -1}."""
    return table("table2", profile)


def table3(profile: str) -> Report:
    """Table 3: variances of the Table 1 integrands (Lemma 6)."""
    return table("table3", profile)


def load(name: str, profile: str | None = None) -> dict[str, Any]:
    """The committed results ``data/results/<name>_<profile>.json``."""
    path = config.RESULTS_DIR / f"{name}_{config.profile(profile)}.json"
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}; run `python -m widenets_nb reproduce "
                                f"{name} --profile {config.profile(profile)}`.")
    return json.loads(path.read_text())

