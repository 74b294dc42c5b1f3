"""``predict`` and ``measure``: Conjecture 1 and a Monte Carlo exponent from the shell.

    python -m widenets_nb predict "f1_a f2_b f3_ab f4"
    python -m widenets_nb measure table1.row5 --activation tanh --widths 64,128,256
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from ..nets import ACTIVATIONS, INITS
from ..results import scaling
from .clusters import predict
from .estimate import BACKENDS, METHODS, measure
from .experiments import theory_prediction


def _predict(args: argparse.Namespace) -> dict[str, Any]:
    return dataclasses.asdict(predict(args.spec))


def _widths(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise ValueError(f"--widths {text!r}: give comma-separated integers, "
                         "e.g. 64,128,256.") from None
    if not widths or min(widths) < 1:
        raise ValueError(f"--widths {text!r}: give positive integers, e.g. 64,128,256.")
    return widths


def _inputs(text: str | None) -> list[list[float]] | None:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--inputs is not JSON ({err.msg}); give a list of input vectors, "
                         "e.g. '[[1,0,0,0],[0,1,0,0]]'.") from None


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    m = measure(args.spec, _widths(args.widths), args.inits, args.seed,
                activation=args.activation, depth=args.depth, init=args.init,
                bias=args.bias, input_dim=args.input_dim, inputs=_inputs(args.inputs),
                method=args.method, probes=args.probes, backend=args.backend,
                progress=sys.stderr.isatty())
    s = scaling(m.spec, m.widths, m.samples, m.statistic, predicted=predict(m.spec).s,
                seed=args.seed)
    result: dict[str, Any] = {"spec": m.spec, "widths": list(s.widths), "mean": list(s.values),
                              "stderr": list(s.stderr), "statistic": s.statistic,
                              "slope": s.slope,
                              "slope_ci": None if s.slope_ci is None else list(s.slope_ci),
                              "unresolved": list(s.unresolved)}
    if not s.fitted:
        result["not_fittable"] = s.note
    result["predicted"] = s.predicted
    result["inputs"] = m.inputs.tolist()
    t = theory_prediction(m.spec, args.activation, args.depth, args.init, args.bias, m.inputs)
    if t is not None:
        result["theory"] = {"statistic": t.statistic, "infinite_width": t.infinite_width,
                            "coefficient_1_over_n": t.coefficient_1_over_n}
        if t.infinite_width is None:
            result["theory"]["not_covered"] = t.note
        else:
            result["theory"]["at_widths"] = t.at(s.widths).tolist()
    return result


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``predict`` and ``measure`` to the CLI."""
    p = subparsers.add_parser("predict", help="Conjecture 1: the width exponent of a "
                              "correlator, e.g. 'f1_a f2_b f3_ab f4'")
    p.add_argument("spec", help="a correlator such as 'f1_a f2_a' or a name like table1.row4")
    p.set_defaults(run=_predict)
    m = subparsers.add_parser("measure", help="Monte Carlo mean (or var:) of a correlator "
                              "at several widths and its fitted exponent")
    m.add_argument("spec", help="a correlator such as 'f1_a f2_a' or a name like table1.row4")
    m.add_argument("--activation", choices=list(ACTIVATIONS), default="tanh")
    m.add_argument("--depth", type=int, default=3, help="hidden layers (default 3)")
    m.add_argument("--widths", default="64,128,256", help="comma-separated widths")
    m.add_argument("--inits", type=int, default=200, help="initializations per width")
    m.add_argument("--seed", type=int, default=0, help="derives the initializations")
    m.add_argument("--init", choices=list(INITS), default="gaussian")
    m.add_argument("--bias", action="store_true", help="add N(0,1) biases (App. B.3)")
    m.add_argument("--input-dim", type=int, default=4, help="D (default 4)")
    m.add_argument("--inputs", default=None, help="JSON list of input vectors, one per "
                   "distinct input label in sorted order (default: the U[0,1]^D draw of the "
                   "tables, which resolves every table row)")
    m.add_argument("--method", choices=list(METHODS), default="auto",
                   help="forest (exact), hutchinson (cycles), dense (tiny nets)")
    m.add_argument("--probes", type=int, default=16, help="Hutchinson probes per init")
    m.add_argument("--backend", choices=list(BACKENDS), default="auto",
                   help="dense (sampled networks), lazy (exact conditioning, no n x n "
                        "matrices) or auto (lazy from the measured crossover width)")
    m.set_defaults(run=_measure)
