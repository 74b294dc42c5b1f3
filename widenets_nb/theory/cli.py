"""Command ``theory``: the 1/n prediction E[C](n) = infinite_width + coefficient_1_over_n / n.

    python -m widenets_nb theory kernel --activation tanh --depth 3
    python -m widenets_nb theory four_point --activation gelu --depth 2 --bias \\
        --inputs '[[1,0,0,0],[0,1,0,0],[1,1,0,0],[0.5,0,1,0]]'
    python -m widenets_nb theory ntk_mean --activation relu --depth 4
    python -m widenets_nb theory ntk_variance --activation erf --depth 2 --bias
    python -m widenets_nb theory dntk --activation tanh --depth 2

The statistics are those of ``statistics.STATISTICS`` (kernel: Table 1 row 1, ``f1 f2``;
four_point: row 2; ntk_mean: row 3, ``f1_a f2_a``; ntk_variance: Table 3 row 3;
kernel_variance: Table 3 row 1; dntk: row 4, ``f1_a f2_b f3_ab f4``), on the correlators
and default inputs of ``measure`` and ``exact`` (``default_inputs(count, D)``, U[0,1]^D),
so the three commands compare number for number. ``ddntk`` (row 5) is not covered: it
needs recursions of the third derivatives, which are not built (``NOT_COVERED``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from ..correlators.estimate import default_inputs
from ..correlators.notation import parse
from ..nets import ACTIVATIONS, Network
from . import quadrature
from .statistics import STATISTICS

_KERNEL = "layer recursions of K, its 1/n correction K1 and the four-point vertex V " \
    "(widenets_nb.theory.recursions)"
_NTK = "layer recursions of the NTK mean, its 1/n correction and the NTK-preactivation and " \
    "NTK-NTK statistics C, Q, A, P (widenets_nb.theory.ntk_recursions)"
_DNTK = "layer recursions of the dNTK-preactivation tensors P1, P2 on the NTK statistics " \
    "(widenets_nb.theory.dntk)"
#: statistic -> how the CLI describes its computation
METHODS: dict[str, str] = {"kernel": _KERNEL, "four_point": _KERNEL, "ntk_mean": _NTK,
                           "ntk_variance": _NTK, "kernel_variance": _KERNEL, "dntk": _DNTK}
#: statistics of the tables that the recursions do not reach, with the reason
NOT_COVERED: dict[str, str] = {
    "ddntk": "ddntk (f1_a f2_b f3_c f4_abc, Table 1 row 5) is not covered: it needs layer "
             "recursions of the third derivatives (the book's ddNTK), which are not built"}


def _inputs(text: str | None, statistic: str, input_dim: int) -> np.ndarray:
    if text is None:
        if input_dim < 1:
            raise ValueError(f"--input-dim must be a positive integer, got {input_dim}.")
        return default_inputs(len(parse(STATISTICS[statistic][1]).inputs), input_dim)
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--inputs is not valid JSON ({err.msg}); give a list of input "
                         "vectors such as '[[1, 0], [0.5, 2]]'.") from None
    try:
        x = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("--inputs must be a list of equal-length lists of numbers, "
                         "e.g. '[[1, 0], [0.5, 2]]'.") from None
    if x.ndim != 2 or x.shape[1] < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"--inputs must be a list of equal-length lists of finite numbers; "
                         f"got an array of shape {x.shape}.")
    return x


def _theory(args: argparse.Namespace) -> dict[str, Any]:
    if args.statistic in NOT_COVERED:
        raise ValueError(f"{NOT_COVERED[args.statistic]}; choose one of "
                         f"{', '.join(STATISTICS)}.")
    if args.statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {args.statistic!r}; choose one of "
                         f"{', '.join(STATISTICS)}.")
    if args.activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {args.activation!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}.")
    x = _inputs(args.inputs, args.statistic, args.input_dim)
    net = Network(input_dim=x.shape[1], depth=args.depth, activation=args.activation,
                  bias=args.bias)
    function, correlator = STATISTICS[args.statistic]
    p = function(net, x)
    return {
        "statistic": args.statistic,
        "correlator": correlator,
        "activation": args.activation,
        "depth": args.depth,
        "bias": args.bias,
        "inputs": x.tolist(),
        "infinite_width": float(p.infinite_width),
        "coefficient_1_over_n": float(p.coefficient_1_over_n),
        "method": METHODS[args.statistic] + "; quadrature: " + quadrature.describe(),
    }


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``theory`` to the CLI."""
    p = sub.add_parser("theory", help="the analytic 1/n coefficient of a correlator at "
                                      "initialization (finite-width recursions)")
    p.add_argument("statistic", help=f"one of: {', '.join(STATISTICS)}")
    p.add_argument("--activation", default="tanh", help="linear, tanh, erf, gelu, sin, "
                   "softplus (Price's theorem and quadrature) or relu (closed forms, at most "
                   "2 distinct inputs) (default tanh)")
    p.add_argument("--depth", type=int, default=3, help="hidden layers d (default 3)")
    p.add_argument("--bias", action="store_true", help="biases b_1..b_{d-1} (App. B.3)")
    p.add_argument("--inputs", default=None, help="JSON list of input vectors, one per "
                   "distinct label in sorted order (default: the tables' U[0,1]^D draw)")
    p.add_argument("--input-dim", type=int, default=4, help="D of the default inputs")
    p.set_defaults(run=_theory)
