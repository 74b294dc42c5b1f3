"""Seconds from Run to figure for the first panel of every notebook, cold and warm.

    .venv/bin/python benchmarks/panels.py [--panels prior correlators ...] [--out FILE]
    .venv/bin/python benchmarks/panels.py --from-log LOG   # the table from an earlier log

For each panel (the first of notebooks 00-05, with the standard profile's default
controls; notebook 01's is the correlator panel) the panel is built with its first Run
held back, and its ``compute`` (the function ``widgets.Panel`` runs on Run) is called with
the default control values; a stream of updates is consumed to its end, noting when the
first figure arrives. Every measurement runs in a fresh process with its own empty
``WIDENETS_CACHE`` (no result cached):

- before: ``WIDENETS_COMPILATION_CACHE=0`` (every program compiled in the process);
- after, cold: the persistent compilation cache on and empty;
- after, warm: the persistent compilation cache holding the cold run's programs.

Each process then repeats the same call (the result cache answers; ``Panel`` itself
answers a repeat from memory without calling ``compute``), and calls it a third time with
the result cache pointed at an empty folder and the panels' in-memory results cleared: a
warm kernel computing settings it has not computed before (same shapes). Wall-clock and
the process's CPU seconds are reported with the load average, since the machine may be shared. The
results go to ``benchmarks/results/panels.md``, rewritten after every panel (each
panel's numbers are also printed as one JSON line, which ``--from-log`` reads back).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).parent / "results" / "panels.md"
#: panel name -> (notebook, the expression building it with the standard profile's
#: protocol, as the notebook does).
PANELS: dict[str, tuple[str, str]] = {
    "prior": ("00", "prior.panel.init_distribution_panel(prior.PriorProtocol.for_profile())"),
    "correlators": ("01", "correlators.panel.correlator_panel(S, max_inits=max(S.inits, "
                          "200), max_log2_width=20)"),
    "diagrams": ("02", "diagrams.panel.diagram_panel('table1.row5', 3)"),
    "training": ("03", "training.panel.drift_panel(training.DriftProtocol.for_profile())"),
    "corrections": ("04", "corrections.panel.trajectory_panel(dataclasses.replace("
                          "corrections.TrajectoryProtocol.for_profile(), activation='tanh'))"),
    "spectra": ("05", "spectra.panel.top_eigenvalues_panel(spectra.ExplorerProtocol"
                      ".for_profile())"),
}

#: Run in the child: build the panel without its first Run, time compute twice.
CHILD = """
import dataclasses, json, sys, time
start = time.perf_counter()
import widenets_nb
from widenets_nb import widgets, prior, correlators, diagrams, training, corrections, spectra
import widenets_nb.prior.panel, widenets_nb.correlators.panel, widenets_nb.diagrams.panel
import widenets_nb.training.panel, widenets_nb.corrections.panel, widenets_nb.spectra.panel
from widenets_nb.correlators.experiments import ScalingProtocol
S = ScalingProtocol.for_profile()
imported = time.perf_counter() - start
widgets.Panel.refresh = lambda self: None
panel = {build}

def run():
    wall, cpu, first = time.perf_counter(), time.process_time(), None
    result = panel.compute(**panel.values())
    if not isinstance(result, tuple):
        for update in result:
            if first is None and update.figure is not None:
                first = time.perf_counter() - wall
    total = time.perf_counter() - wall
    return {{"wall": total, "cpu": time.process_time() - cpu,
            "first": total if first is None else first}}

first_run = run()
repeat = run()
import tempfile
from pathlib import Path
from widenets_nb import config
config.CACHE_DIR = Path(tempfile.mkdtemp())  # a warm kernel, nothing in the result cache
widenets_nb.training.panel._drift.cache_clear()  # nor in the panels' memories
widenets_nb.diagrams.experiments.listed_diagrams.cache_clear()
again = run()
print(json.dumps({{"import": imported, "run": first_run, "repeat": repeat, "again": again,
                  "compute": getattr(panel.compute, "__qualname__", "?")}}))
"""


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def measure(name: str, cache: Path, compilation_cache: bool, timeout: float) -> dict:
    """One fresh process: build panel ``name``, time its compute twice."""
    env = {**os.environ, "WIDENETS_PROFILE": "standard", "WIDENETS_CACHE": str(cache),
           "WIDENETS_COMPILATION_CACHE": "1" if compilation_cache else "0"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    before = load()
    proc = subprocess.run([sys.executable, "-c", CHILD.format(build=PANELS[name][1])],
                          capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {proc.stderr.strip().splitlines()[-1]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**out, "load": f"{before} -> {load()}"}


def panel_rows(name: str, timeout: float, before: bool = True) -> dict[str, dict]:
    """before (no persistent cache), after cold, after warm: each in a fresh process
    with an empty result cache (the warm one gets a copy of the cold one's programs)."""
    root = Path(tempfile.mkdtemp(prefix=f"panels-{name}-"))
    try:
        rows = {"before": measure(name, root / "before", False, timeout)} if before else {}
        rows["cold"] = measure(name, root / "cold", True, timeout)
        stored = root / "cold" / "xla"  # absent when nothing took long to compile
        stored.mkdir(parents=True, exist_ok=True)
        shutil.copytree(stored, root / "warm" / "xla")
        rows["warm"] = measure(name, root / "warm", True, timeout)
        rows["warm"]["entries"] = len(list(stored.iterdir()))
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def write(out: Path, measured: dict[str, dict[str, dict]]) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"# Panels: seconds from Run to figure\n\n`{' '.join(sys.argv)}`, {stamp}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              "standard profile, float32. Wall-clock of the panel's compute with its "
              "default controls (CPU: the process's CPU seconds), the first figure's time "
              "for a panel that draws as it goes; `load` is the 1/5/15-minute load average "
              "before -> after each process (before, cold, warm).\n\n")
    out.write_text(header + markdown(measured) + "\n")


def markdown(measured: dict[str, dict[str, dict]]) -> str:
    lines = [
        "| notebook | panel compute | before: first Run | after, cold compilation cache | "
        "after, warm compilation cache | warm kernel, new results | repeated Run | import | "
        "programs stored | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(r: dict | None, key: str = "run") -> str:
        if r is None or key not in r:
            return "not measured"
        run = r[key]
        return f"{run['wall']:.1f} s (CPU {run['cpu']:.1f} s, first figure {run['first']:.1f} s)"

    for name, rows in measured.items():
        repeat = max(rows[k]["repeat"]["wall"] for k in rows)
        loads = "; ".join(rows[k]["load"] for k in rows)
        compute = rows["cold"]["compute"]
        lines.append(f"| {PANELS[name][0]} | `{compute}` | {cell(rows.get('before'))} "
                     f"| {cell(rows['cold'])} | {cell(rows['warm'])} "
                     f"| {cell(rows['warm'], 'again')} | {repeat:.2f} s "
                     f"| {rows['warm']['import']:.1f} s | {rows['warm']['entries']} | {loads} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", nargs="+", choices=list(PANELS), default=list(PANELS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--timeout", type=float, default=1200.0,
                        help="seconds allowed to one process")
    parser.add_argument("--no-before", action="store_true",
                        help="skip the run without the persistent cache")
    parser.add_argument("--from-log", type=Path, default=None,
                        help="rewrite the table from the JSON lines of an earlier run")
    args = parser.parse_args()
    measured: dict[str, dict[str, dict]] = {}
    if args.from_log:
        for line in args.from_log.read_text().splitlines():
            name, _, rows = line.partition(" ")
            if name in PANELS and rows.startswith("{"):  # later lines add to earlier
                measured[name] = {**measured.get(name, {}), **json.loads(rows)}
        write(args.out, measured)
        return
    for name in args.panels:
        measured[name] = panel_rows(name, args.timeout, before=not args.no_before)
        print(name, json.dumps(measured[name]), flush=True)
        write(args.out, measured)
    print(args.out)


if __name__ == "__main__":
    main()
