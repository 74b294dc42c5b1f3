"""Commands ``exact`` and ``diagrams``: exact deep-linear correlators and their diagrams.

    python -m widenets_nb exact "f1_a f2_b f3_ab f4" --depth 3 --inputs '[[1,0],[0,1],[1,1],[2,-1]]'
    python -m widenets_nb diagrams table1.row5 --depth 2
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from typing import Any

from ..correlators.estimate import INPUT_SEED
from .exact import ExactCorrelator, ExactVariance, as_correlator, exact, exact_correlator
from .feynman import leading_diagrams


def _number(value: object) -> int | float:
    return int(value) if value == int(value) else float(value)


def _read_inputs(text: str) -> list[list[Fraction]]:
    """JSON rows of numbers; decimals and "p/q" strings are read as exact rationals."""
    try:
        rows = json.loads(text, parse_float=Fraction)
    except json.JSONDecodeError as err:
        raise ValueError(f"--inputs is not valid JSON ({err.msg}); give a list of input "
                         "vectors such as '[[1, 0], [0.5, 2]]'.") from None
    if not isinstance(rows, list) or not all(isinstance(r, list) and r for r in rows):
        raise ValueError("--inputs must be a JSON list of non-empty lists (one input vector "
                         "per distinct label, in sorted label order).")
    message = ("--inputs entries must be numbers or rational strings like '1/3', got "
               "{!r}.")
    out = []
    for row in rows:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, Fraction, str)):
                raise ValueError(message.format(v))
        try:
            out.append([Fraction(v) for v in row])
        except (ValueError, ZeroDivisionError):
            raise ValueError(message.format(row)) from None
    return out


def _inputs(args: argparse.Namespace, result: ExactCorrelator | ExactVariance
            ) -> list[list[object]]:
    if args.inputs is not None:
        return _read_inputs(args.inputs)
    from ..correlators.estimate import default_inputs

    if args.input_dim < 1:
        raise ValueError(f"--input-dim must be a positive integer, got {args.input_dim}.")
    count = len(set(result.labels))
    return default_inputs(count, args.input_dim, args.seed).tolist()


def exact_payload(result: ExactCorrelator | ExactVariance, xs: list[list[object]]
                  ) -> dict[str, Any]:
    """The JSON result of ``exact``: E[C](n) (or Var, for ``var:``) = sum_k coefficients[k]
    n^k."""
    coefficients = result.coefficients(xs)
    is_exact = all(isinstance(v, Fraction) for v in coefficients.values())
    out: dict[str, Any] = {
        "spec": result.spec,
        "depth": result.depth,
        "bias": result.bias,
        "inputs": [[_number(v) for v in row] for row in xs],
        "coefficients": {str(k): _number(v) for k, v in coefficients.items()},
        "leading_exponent": max(coefficients) if coefficients else None,
        "tight_exponent": result.tight_exponent,
        "conjecture_exponent": result.conjecture_exponent,
        "n_diagrams": result.n_diagrams,
        "diagrams_by_power": {str(k): v for k, v in result.diagram_counts.items()},
        "symbolic": {str(k): v for k, v in result.symbolic().items()},
    }
    if is_exact:
        out["exact_coefficients"] = {str(k): str(v) for k, v in coefficients.items()}
    if not coefficients:
        out["note"] = ("E[C] vanishes identically for these inputs" if result.n_diagrams
                       else "E[C] vanishes identically: there is no Feynman diagram")
    return out


def _exact(args: argparse.Namespace) -> dict[str, Any]:
    result = exact(as_correlator(args.spec), args.depth, bias=args.bias)
    return exact_payload(result, _inputs(args, result))


def _diagrams(args: argparse.Namespace) -> dict[str, Any]:
    c = as_correlator(args.spec)
    exact = exact_correlator(c, args.depth, bias=args.bias)
    if args.limit < 0:
        raise ValueError(f"--limit must be >= 0, got {args.limit}.")
    shown, is_sorted = leading_diagrams(c, args.depth, args.bias, limit=args.limit)
    return {
        "spec": exact.spec,
        "depth": exact.depth,
        "bias": exact.bias,
        "n_diagrams": exact.n_diagrams,
        "diagrams_by_power": {str(k): v for k, v in exact.diagram_counts.items()},
        "tight_exponent": exact.tight_exponent,
        "conjecture_exponent": exact.conjecture_exponent,
        "shown": len(shown),
        "sorted": is_sorted,
        "diagrams": [g.summary() for g in shown],
    }


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="a correlator such as 'f1_a f2_b f3_ab f4' or a table "
                                     "row name such as table1.row5")
    parser.add_argument("--depth", type=int, default=3, help="hidden layers d (default 3)")
    parser.add_argument("--bias", action="store_true", help="biases b_1..b_{d-1} (App. B.3)")


def register(sub: argparse._SubParsersAction) -> None:
    exact = sub.add_parser("exact", help="exact E[C] of a deep linear network as a "
                                         "polynomial in 1/n (Feynman diagrams)")
    _common(exact)
    exact.add_argument("--inputs", default=None,
                       help="JSON list of input vectors, one per distinct label in sorted "
                            "order; integers, decimals and 'p/q' strings are exact")
    exact.add_argument("--seed", type=int, default=INPUT_SEED,
                       help="seed of the default inputs U[0,1]^D (without --inputs; the "
                            "default draws the inputs `measure` and `theory` use)")
    exact.add_argument("--input-dim", type=int, default=4, help="D of the default inputs")
    exact.set_defaults(run=_exact)
    diagrams = sub.add_parser("diagrams", help="list the Feynman diagrams of a correlator "
                                               "with their powers of n")
    _common(diagrams)
    diagrams.add_argument("--limit", type=int, default=20,
                          help="diagrams to list, highest power of n first (default 20)")
    diagrams.set_defaults(run=_diagrams)
