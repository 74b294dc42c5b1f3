"""Benchmark: sections 03-05's NTK-heavy computations, first call and warm call, before and
after the structured empirical NTK.

Run by hand: ``.venv/bin/python benchmarks/sections.py [--before d2b2b9b^]``; writes the
section ``SECTION`` of ``benchmarks/results/ntk.md``. "Before" is the source tree of
``--before`` (``git archive``, read-only git) run from a temporary directory; "after" is
this working tree. Every case runs in a fresh process with an empty ``WIDENETS_CACHE``
(results and compiled programs); the first call includes compilation, the warm call
repeats it in the same process after the result cache is emptied again (so it recomputes
with compiled programs in memory). The driver below is the same for both trees; only the
package's code differs.

Cases (one per section, each the part of a panel's computation that builds NTKs):

- 03: Var[Theta_0] of the drift panel (``training.initial_kernel``'s loop): ``ntk_entry``
  of 2000 initializations at each of the standard profile's widths 64..4096 (ReLU, depth 1,
  two inputs of the reduced network, chunks of 1000);
- 04: ``corrections.tower_of`` of the standard trajectory (tanh, width 1024, 20 training
  and 4 test images): Theta_0 and the operators O_3, O_4, ... of one initialization;
- 05: the Theta side of Fig. 9b's standard comparison (``spectra.solvers.ntk_eigenvalues``:
  width 1024, depth 2, 15 three-class MNIST images, 3 outputs, 1.85M parameters). The
  Hessian's Lanczos solve beside it takes minutes on two cores and builds no NTK, so it is
  left out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "ntk.md"
SECTION = "## Sections 03-05: first and warm times"
CASES = ("03", "04", "05")
TIMEOUT_S = 900
THETA0_WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)
THETA0_INITS, THETA0_CHUNK = 2000, 1000


def _theta0() -> None:
    import jax
    import numpy as np

    from widenets_nb import Network
    from widenets_nb.ntk import ntk_entry

    x = np.linalg.cholesky(np.array([[2.0, 0.7], [0.7, 2.0]]))  # two gram_inputs rows
    for width in THETA0_WIDTHS:
        net = Network(input_dim=2, width=width, depth=1, activation="relu",
                      input_scaling=True)
        one = jax.jit(jax.vmap(lambda k, net=net: ntk_entry(net, net.sample(k), x[0], x[1])))
        keys = jax.random.split(jax.random.key(width), THETA0_INITS)
        for start in range(0, THETA0_INITS, THETA0_CHUNK):
            np.asarray(one(keys[start:start + THETA0_CHUNK]))


def _tower() -> None:
    from widenets_nb.corrections.experiments import TrajectoryProtocol, tower_of

    tower_of(TrajectoryProtocol.for_profile("standard"))


def _theta_eigenvalues() -> None:
    import jax

    from widenets_nb.spectra.measurements import setup
    from widenets_nb.spectra.solvers import ntk_eigenvalues

    s = setup(1024, depth=2, activation="relu", classes=3, per_class=5, seed=0)
    ntk_eigenvalues(s.net, s.net.sample(jax.random.key(0)), s.x)


def _child(case: str) -> dict:
    """First and warm call of ``case`` in this process, emptying the result cache before
    each (keeping JAX's compiled programs: ``xla``)."""
    from widenets_nb import config

    run = {"03": _theta0, "04": _tower, "05": _theta_eigenvalues}[case]
    times = []
    for _ in range(2):
        for entry in Path(config.CACHE_DIR).glob("*"):
            if entry.name != "xla":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"case": case, "first_s": times[0], "warm_s": times[1]}


def _measure(case: str, tree: Path) -> dict:
    """``_child(case)`` with the package of ``tree``, in a fresh process and cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ | {"PYTHONPATH": str(tree), "WIDENETS_CACHE": cache}
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", case], cwd=tree,
                                  env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"case": case, "error": f"over {TIMEOUT_S} s"}
    if proc.returncode:
        errors = [line for line in proc.stderr.splitlines() if "Error" in line] or ["failed"]
        return {"case": case, "error": errors[-1][:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _table(before: str, rows: dict[str, dict[str, dict]], load: list[float]) -> list[str]:
    names = {"03": "03 drift panel: Var[Theta_0] (2000 inits x 7 widths, ntk_entry)",
             "04": "04 trajectory: tower_of (Theta_0, O_3, O_4, ..., width 1024)",
             "05": "05 Fig. 9b: Theta eigenvalues (width 1024, 15 images x 3 outputs)"}

    def cell(row: dict, key: str) -> str:
        return row.get("error", "") if "error" in row else f"{row[key]:.2f}"

    lines = [SECTION, "",
             f"`python benchmarks/sections.py`: before = `{before}` (the tree before the "
             "structured NTK), after = this tree; one fresh process and empty "
             "`WIDENETS_CACHE` per case, first call (with compilation) and warm call "
             f"(result cache emptied again). Load average (1/5/15 min, the larger of start "
             f"and end) {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on "
             f"{os.cpu_count()} CPUs: shared, so times are upper bounds. What each case "
             "computes: `benchmarks/sections.py`.", "",
             "| section: computation | before first (s) | before warm (s) | after first (s) "
             "| after warm (s) |", "|---|---|---|---|---|"]
    for case in CASES:
        b, a = rows["before"][case], rows["after"][case]
        lines.append(f"| {names[case]} | {cell(b, 'first_s')} | {cell(b, 'warm_s')} | "
                     f"{cell(a, 'first_s')} | {cell(a, 'warm_s')} |")
    return lines


def write_section(lines: list[str]) -> None:
    """Replace (or append) ``SECTION`` in ``OUT``, keeping the rest of the file."""
    text = OUT.read_text() if OUT.exists() else ""
    head = text.split(f"\n{SECTION}")[0].rstrip("\n")
    OUT.write_text((head + "\n\n" if head else "") + "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="d2b2b9b^")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    load = os.getloadavg()
    rows: dict[str, dict[str, dict]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory() as scratch:
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
        for case in args.cases:
            for name, tree in (("before", Path(scratch)), ("after", ROOT)):
                rows[name][case] = _measure(case, tree)
                print(name, rows[name][case], flush=True)
    for name in rows:
        for case in set(CASES) - set(args.cases):
            rows[name][case] = {"case": case, "error": "not run"}
    load = [max(a, b) for a, b in zip(load, os.getloadavg(), strict=True)]
    write_section(_table(args.before, rows, load))
    print(OUT)


if __name__ == "__main__":
    main()
