"""Which U[0,1]^4 input draw resolves every Table 1 and Table 2 mean? (the default inputs)

A mean is resolved when |C| >= 2 standard errors; with too small a margin a row drops out
of the fit at some width. For each candidate ``input_seed`` of ``default_inputs(6, 4, seed)``
this measures the six table rows at a few widths (1000 initializations, Gaussian weights
with the default backend, +-1 weights with the dense one) for every activation and reports
z = |mean| / standard error; the table default is the seed with the largest smallest z.
Prints a markdown table.

    .venv/bin/python scripts/choose_inputs.py --seeds 0 1 2 3 4 5 6 7
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from widenets_nb.correlators import NAMED
from widenets_nb.correlators.estimate import default_inputs, measure_all

ROWS = tuple(NAMED[f"table1.row{i}"] for i in range(1, 7))
SETTINGS = {"gaussian": (128, 1024), "sign": (128, 256)}


def z_scores(input_seed: int, activation: str, init: str, inits: int) -> np.ndarray:
    """|mean| / stderr of the six rows: array (widths, rows)."""
    xs = default_inputs(6, 4, input_seed)
    ms = measure_all(ROWS, SETTINGS[init], inits, 0, activation=activation, init=init,
                     inputs=xs, use_cache=True, progress=False)
    return np.array([[abs(v) / e for v, e in zip(m.values, m.stderr, strict=True)]
                     for m in ms]).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    parser.add_argument("--inits", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    header = "| input seed | " + " | ".join(
        f"{init} {a} (min z, row)" for init in SETTINGS for a in ("linear", "relu", "tanh"))
    print(header + " | min z |")
    print("|---" * (2 + 2 * 3) + "|")
    best = (-1.0, None)
    for seed in args.seeds:
        cells, worst = [], np.inf
        for init in SETTINGS:
            for activation in ("linear", "relu", "tanh"):
                z = z_scores(seed, activation, init, args.inits)
                row = int(np.argmin(z.min(axis=0)))
                cells.append(f"{z.min():.1f} (row {row + 1})")
                worst = min(worst, float(z.min()))
        print(f"| {seed} | " + " | ".join(cells) + f" | {worst:.1f} |", flush=True)
        best = max(best, (worst, seed), key=lambda t: t[0])
    print(f"\nbest input seed: {best[1]} (smallest z {best[0]:.1f}); widths {SETTINGS}, "
          f"{args.inits} initializations; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
