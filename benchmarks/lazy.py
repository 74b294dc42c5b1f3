"""Seconds per initialization of all six Table 1 integrands: dense autodiff vs lazy.

    .venv/bin/python benchmarks/lazy.py [--dense 7 13] [--lazy 7 20] [--inits 16]
    .venv/bin/python benchmarks/lazy.py --dense 0 -1 --lazy 14 20 --inits 2   # part
    .venv/bin/python benchmarks/lazy.py --dense 0 -1 --lazy 0 -1 --wide 3     # 2^20 only

``--wide N`` times N initializations at n = 2^20 in float32 and float64 (in that order,
so the process's peak resident memory after each is that dtype's) beside a roofline
measured in the same process: the minimal random draw (one N(0, 1) n-vector per query,
k = 24 per hidden layer, plus U and V) with ``lazy_matrix.normal``, and the O(n k^2)
linear algebra as plain jitted products of the same shapes, per hidden layer a Gram
matrix (n x k)^T (n x k) and a product (n x k)(k x k): 8 n k^2 flops in all.

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
import jax.numpy as jnp
import numpy as np

from widenets_nb import __version__
from widenets_nb.correlators import NAMED, estimate, lazy, lazy_matrix
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
    start, start_cpu = time.perf_counter(), time.process_time()
    sample(max(2, min(chunk, inits)))
    first, first_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    wall, cpu = timed(sample, max(2, inits))
    return {"first": first, "first_cpu": first_cpu, "wall": wall, "cpu": cpu,
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def _timed_jit(fn, *args, repeats: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds of one call of a jitted ``fn`` after a compiling call."""
    jax.block_until_ready(fn(*args))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        jax.block_until_ready(fn(*args))
    return (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats


def roofline(width: int) -> dict[str, float]:
    """The minimal draw and the O(n k^2) products at n = ``width`` (see the docstring)."""
    net = Network(input_dim=4, width=width, depth=3, activation="tanh")
    right, left = lazy.plan(ROWS, range(1, 7)).queries
    k, layers = right + left, net.depth - 1
    dtype = jnp.result_type(float)
    numbers = layers * k * width + (net.input_dim + 1) * width
    draw = _timed_jit(jax.jit(lambda key: lazy_matrix.normal(key, (numbers,), dtype)),
                      jax.random.key(0))
    xs = [jax.random.normal(jax.random.key(1 + i), (width, k), dtype) for i in range(layers)]
    y = jax.random.normal(jax.random.key(0), (k, k), dtype)
    algebra = _timed_jit(jax.jit(lambda xs, y: [(x.T @ x, x @ y) for x in xs]), xs, y)
    flops = layers * 2 * (2 * width * k * k)
    return {"k": k, "numbers": numbers, "flops": flops, "draw_wall": draw[0],
            "draw_cpu": draw[1], "algebra_wall": algebra[0], "algebra_cpu": algebra[1]}


def wide(inits: int, width: int = 2**20) -> dict[str, dict]:
    """float32 then float64: the lazy sampler at ``width`` and its roofline."""
    out = {}
    for bits in (32, 64):
        with jax.enable_x64(bits == 64):
            load = os.getloadavg()[0]
            row = measure("lazy", width, inits) | roofline(width)
            out[f"float{bits}"] = row | {
                "inits": inits, "load": [load, os.getloadavg()[0]],
                "when": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"}
        print(f"float{bits}", out[f"float{bits}"], flush=True)
    return out


def _wide_lines(rows: dict, before: dict | None) -> list[str]:
    """The n = 2^20 section, a row per dtype and date; ``before`` is the main table's
    lazy 2^20 row, if any."""
    if not rows:
        return []
    lines = ["", "## n = 2^20, the sampler against its roofline", "",
             "One initialization of all six Table 1 integrands (tanh, depth 3), each row "
             "measured in one process (`--wide`), beside the roofline measured in the same "
             "process (every run is kept: a row per dtype and date): the minimal random "
             "draw (k = 24 fresh N(0, 1) n-vectors per hidden "
             "layer, 19 right and 5 left queries, plus U and V) and the O(n k^2) algebra "
             "as plain jitted products of the same shapes (per hidden layer a Gram "
             "(n x k)^T (n x k) and a product (n x k)(k x k): 8 n k^2 flops). CPU seconds "
             "are user + system of the process (XLA uses both cores); wall seconds depend "
             "on the machine's load, given per row.", "",
             "| dtype | when | load | s/init (wall) | CPU s/init | roofline wall (draw + "
             "algebra) | roofline CPU | CPU / roofline CPU | algebra GFLOP/s (CPU) | "
             "peak RSS GB | first call (s) | first call CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, r in sorted(rows.items(), key=lambda item: (item[0].split()[0], item[1]["when"])):
        dtype = key.split()[0]
        roof_wall = r["draw_wall"] + r["algebra_wall"]
        roof_cpu = r["draw_cpu"] + r["algebra_cpu"]
        lines.append(
            f"| {dtype} | {r['when']} | {r['load'][0]:.1f}-{r['load'][1]:.1f} | "
            f"{r['wall']:.3g} | {r['cpu']:.3g} | {roof_wall:.3g} ({r['draw_wall']:.3g} + "
            f"{r['algebra_wall']:.3g}) | {roof_cpu:.3g} | {r['cpu'] / roof_cpu:.2g}x | "
            f"{r['flops'] / r['algebra_cpu'] / 1e9:.3g} | {r['rss_gb']:.2f} | "
            f"{r['first']:.3g} | {_cell(r, 'first_cpu')} |")
    if before:
        lines += ["", f"Before ({before['when'][:10]}, the float64 row 2^20 of the table "
                  f"above): {before['wall']:.3g} s wall and {before['cpu']:.3g} CPU s per "
                  f"initialization, peak RSS {before['rss_gb']:.2f} GB."]
    return lines


def _cell(row: dict | None, key: str) -> str:
    return f"{row[key]:.3g}" if row and key in row else "-"


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
        programs = 3 * len({lazy.padded(Network(input_dim=4, width=2**p, depth=3)).widths
                            for p in range(7, 14)})
        out += ["", f"Table 1 paper protocol (3 activations, widths 2^7..2^13, 1000 "
                f"initializations) with the lazy backend, projected from these CPU times: "
                f"{total / 60:.1f} CPU minutes of sampling plus {programs} compilations "
                f"(about 4-7 CPU s each; widths up to {lazy.PAD_WIDTH} share one program, "
                "`lazy.padded`)."]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense", nargs=2, type=int, default=(7, 13), metavar=("LO", "HI"))
    parser.add_argument("--lazy", nargs=2, type=int, default=(7, 20), metavar=("LO", "HI"))
    parser.add_argument("--inits", type=int, default=16)
    parser.add_argument("--dense-inits-at-large-n", type=int, default=2)
    parser.add_argument("--wide", type=int, default=0, metavar="INITS",
                        help="also time n = 2^20 in float32 and float64 with its roofline")
    args = parser.parse_args()
    if args.wide:
        stored = json.loads(STORE.read_text()) if STORE.exists() else {}
        stored |= {f"wide {k} {v['when']}": v for k, v in wide(args.wide).items()}
        STORE.write_text(json.dumps(stored, indent=1, sort_keys=True))
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
    wide_rows = {k.removeprefix("wide "): v for k, v in stored.items() if k.startswith("wide ")}
    rows = {(k.split()[0], int(k.split()[1])): v for k, v in stored.items()
            if not k.startswith("wide ")}
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
        + ". Rows measured " + ", ".join(sorted({r["when"][:10] for r in rows.values()}))
        + " (the sampler of that date). All six Table 1 "
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
                                          for (b, p), r in sorted(rows.items()))]
    lines += _wide_lines(wide_rows, rows.get(("lazy", 20))) + [""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
