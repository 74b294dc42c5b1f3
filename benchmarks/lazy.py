"""Seconds per initialization of all six Table 1 integrands: dense autodiff vs lazy.

    .venv/bin/python benchmarks/lazy.py [--dense 7 13] [--lazy 7 20] [--inits 16]
    .venv/bin/python benchmarks/lazy.py --dense 0 -1 --lazy 14 20 --inits 2   # part

Each measured width is stored in ``benchmarks/results/lazy.json`` (later runs replace
their widths and keep the others), and the whole table is rewritten to
``benchmarks/results/lazy.md``: tanh, depth 3, float64, the six Table 1 rows on
shared initializations (the way Table 1 is measured). For each width, the first call
(compilation plus one chunk) is timed apart; the steady state is the wall-clock and CPU
time of ``--inits`` more initializations (fewer for the dense path at large n, where one
initialization takes seconds). Peak resident memory is the process's at that point.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import time
from pathlib import Path

import jax
import numpy as np

from widenets_nb import __version__
from widenets_nb.correlators import NAMED, estimate, lazy
from widenets_nb.nets import Network

ROWS = tuple(NAMED[f"table1.row{i}"] for i in range(1, 7))
OUT = Path(__file__).parent / "results" / "lazy.md"
STORE = OUT.with_suffix(".json")


def timed(sample, inits: int) -> tuple[float, float]:
    """(wall, CPU) seconds per initialization of ``sample(inits)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    sample(inits)
    return (time.perf_counter() - wall) / inits, (time.process_time() - cpu) / inits


def measure(backend: str, width: int, inits: int) -> dict[str, float]:
    net = Network(input_dim=4, width=width, depth=3, activation="tanh")
    xs = estimate.default_inputs(6, 4)
    if backend == "lazy":
        chunk = lazy.chunk_size(lazy.plan(ROWS, range(1, 7)), net)

        def sample(count: int) -> np.ndarray:
            return lazy.lazy_samples(ROWS, net, xs, count, jax.random.key(count),
                                     chunk=min(chunk, count), progress=False)
    else:
        chunk = 8 if width <= 1024 else 1  # dense initializations hold n^2 numbers each

        def sample(count: int) -> np.ndarray:
            return estimate.sample_integrands(ROWS, net, xs, count, seed=count,
                                              chunk=min(chunk, count), progress=False)
    start = time.perf_counter()
    sample(max(2, min(chunk, inits)))
    first = time.perf_counter() - start
    wall, cpu = timed(sample, max(2, inits))
    return {"first": first, "wall": wall, "cpu": cpu,
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def _cell(row: dict | None, key: str) -> str:
    return f"{row[key]:.3g}" if row else "-"


def _ratio(dense: dict | None, lazy_row: dict | None, key: str) -> str:
    return f"{dense[key] / lazy_row[key]:.3g}x" if dense and lazy_row else "-"


def _projections(rows: dict) -> list[str]:
    """Dense at 2^13 by n^2 scaling from 2^12, and the Table 1 paper protocol's CPU time."""
    out = []
    if ("dense", 13) not in rows and ("dense", 12) in rows and ("lazy", 13) in rows:
        dense = 4 * rows["dense", 12]["cpu"]
        out += ["", f"Dense at 2^13 is not run (its n^2 parameters and tangents would pass "
                f"the 4 GB memory budget); scaled by n^2 from 2^12 it would take about "
                f"{dense:.3g} CPU s per initialization, {dense / rows['lazy', 13]['cpu']:.0f}x "
                "the lazy time."]
    if all(("lazy", p) in rows for p in range(7, 14)):
        total = sum(rows["lazy", p]["cpu"] for p in range(7, 14)) * 1000 * 3
        out += ["", f"Table 1 paper protocol (3 activations, widths 2^7..2^13, 1000 "
                f"initializations) with the lazy backend, projected from these CPU times: "
                f"{total / 60:.1f} CPU minutes of sampling plus 21 compilations (about "
                "5-10 CPU s each)."]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense", nargs=2, type=int, default=(7, 13), metavar=("LO", "HI"))
    parser.add_argument("--lazy", nargs=2, type=int, default=(7, 20), metavar=("LO", "HI"))
    parser.add_argument("--inits", type=int, default=16)
    parser.add_argument("--dense-inits-at-large-n", type=int, default=2)
    args = parser.parse_args()
    with jax.enable_x64(True):  # this benchmark times float64, scoped to the measurements
        for backend, (lo, hi) in (("lazy", args.lazy), ("dense", args.dense)):
            for p in range(lo, hi + 1):
                large = backend == "dense" and p > 10
                inits = args.dense_inits_at_large_n if large else args.inits
                load = os.getloadavg()[0]
                row = measure(backend, 2**p, inits)
                row |= {"inits": max(2, inits), "load": [load, os.getloadavg()[0]],
                        "when": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"}
                stored = json.loads(STORE.read_text()) if STORE.exists() else {}
                stored[f"{backend} {p}"] = row  # re-read first: runs may share the file
                STORE.write_text(json.dumps(stored, indent=1, sort_keys=True))
                print(backend, 2**p, row, flush=True)
    stored = json.loads(STORE.read_text()) if STORE.exists() else {}
    rows = {(k.split()[0], int(k.split()[1])): v for k, v in stored.items()}
    loads = [x for r in rows.values() for x in r["load"]]
    lines = [
        "# Lazy vs dense integrand sampling: timings", "",
        f"`benchmarks/lazy.py`, widenets {__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{min(loads):.0f}-{max(loads):.0f} during the measurements"
        + (" (other processes shared the CPUs: wall times are inflated and noisy; CPU time "
           "is the work this process did, the better guide to an idle machine)"
           if max(loads) > os.cpu_count() + 1 else " (an otherwise idle machine; XLA uses "
           "both cores, so CPU time can exceed wall time)")
        + ". All six Table 1 "
        "integrands on shared initializations, tanh, depth 3, float64. Initializations "
        "timed per width (after a first, compiling call): "
        + ", ".join(f"{b} 2^{p}: {r['inits']}" for (b, p), r in sorted(rows.items()))
        + ".", "",
        "| n | dense s/init (wall) | dense CPU s/init | lazy s/init (wall) | lazy CPU s/init "
        "| speed-up (wall) | speed-up (CPU) | first call dense / lazy (s) |",
        "|---|---|---|---|---|---|---|---|"]
    for p in sorted({p for _, p in rows}):
        d, z = rows.get(("dense", p)), rows.get(("lazy", p))
        cells = [_cell(d, "wall"), _cell(d, "cpu"), _cell(z, "wall"), _cell(z, "cpu"),
                 _ratio(d, z, "wall"), _ratio(d, z, "cpu"),
                 f"{_cell(d, 'first')} / {_cell(z, 'first')}"]
        lines.append(f"| 2^{p} = {2**p} | " + " | ".join(cells) + " |")
    lines += _projections(rows)
    lines += ["", "Peak resident memory (GB, process maximum so far when the width "
              "finished): " + ", ".join(f"{b} 2^{p}: {r['rss_gb']:.2f}"
                                          for (b, p), r in sorted(rows.items())), ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
