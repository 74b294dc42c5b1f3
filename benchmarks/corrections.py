"""Timing of the full O(1/n) prediction of one MNIST training run (Fig. 11 setting).

    .venv/bin/python benchmarks/corrections.py

Writes ``benchmarks/results/corrections.md``. The paper profile's ``Fig11Protocol``: 20
training images and 4 test images (M = 24) as ``experiments.inputs`` (the Gram-equivalent
M-dimensional inputs), one hidden layer (tanh), 10^4 GD steps recorded at 57 log-spaced
steps, float64 (``jax.enable_x64``, scoped to the benchmark). For every width: the operators
(``operators.tower``: gradients, M Hessian-gradient products and N(N+1)/2 third-derivative
contractions, the (M^2, P) x (P, N^2) product), then the time evolution (continuous closed
forms and the discrete GD recursion, leading and corrected). "first" includes JIT
compilation; "warm" is the best of ``REPEATS`` further calls (what a slider pays when only eta
or the number of steps changes; the operators are cached per initialization in the package,
not here). Then, at ``INPUTS_WIDTH``, the operators and the training run of one
initialization on the 784-pixel images against the same on the Gram inputs (CPU seconds).
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from pathlib import Path

import jax
import numpy as np

from widenets_nb import __version__, dynamics, operators
from widenets_nb.corrections import closed_forms, experiments

PROTOCOL = experiments.Fig11Protocol.for_profile("paper")
REPEATS = 2
INPUTS_WIDTH = 256
OUT = Path(__file__).parent / "results" / "corrections.md"


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def evolve(tower: operators.Tower, record: np.ndarray) -> None:
    for order in ("leading", "corrected"):
        closed_forms.continuous(tower, PROTOCOL.learning_rate * record, order)
        closed_forms.discrete(tower, PROTOCOL.learning_rate, record, order)


def main() -> None:
    with jax.enable_x64(True):
        rows = measure()
        speedup = inputs_speedup()
    write(rows, speedup)


def measure() -> list[tuple]:
    """Operators and evolution, first and warm, at every width (call with float64 on)."""
    data = PROTOCOL.data()
    x = experiments.inputs(data)
    n = len(data.y)
    record = np.asarray(dynamics.log_steps(PROTOCOL.steps, PROTOCOL.per_octave))
    rows = []
    for width in PROTOCOL.widths:
        net = experiments.network("tanh", width, PROTOCOL.depth, x.shape[1])
        params = net.sample(jax.random.key(0))

        def build(net=net, params=params):
            return operators.tower(net, params, x[:n], data.y, x[n:])

        first_ops, tower = timed(build)
        warm_ops = min(timed(build)[0] for _ in range(REPEATS))
        first_evo, _ = timed(lambda tower=tower: evolve(tower, record))
        warm_evo = min(timed(lambda tower=tower: evolve(tower, record))[0]
                       for _ in range(REPEATS))
        rows.append((width, net.num_params, first_ops, warm_ops, first_evo, warm_evo))
        print(rows[-1], flush=True)
    return rows


def inputs_speedup() -> dict[str, tuple[float, float]]:
    """inputs -> warm CPU seconds (process time, all threads) of the operators and of the
    training run of one initialization at ``INPUTS_WIDTH``: 784-pixel images vs Gram inputs
    (call with float64 on). The evolution is the same on both (it sees only the tower)."""
    run = PROTOCOL.run("tanh", INPUTS_WIDTH, 0)
    data = run.data()
    n = len(data.y)
    out = {}
    for name, x in (("784-pixel images", np.concatenate([data.x_train, data.x_test])),
                    ("Gram inputs", experiments.inputs(data))):
        net = experiments.network("tanh", INPUTS_WIDTH, PROTOCOL.depth, x.shape[1])
        params = net.sample(jax.random.key(0))
        for _ in range(2):  # the second call is warm
            start = time.process_time()
            jax.block_until_ready(operators.tower(net, params, x[:n], data.y, x[n:]).o4)
            middle = time.process_time()
            experiments.train_run(run, net, params, x, data.y)
            out[name] = (middle - start, time.process_time() - middle)
        print(name, out[name], flush=True)
    return out


def write(rows: list[tuple], speedup: dict[str, tuple[float, float]]) -> None:
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    lines = [
        "# O(1/n) trajectory prediction: timings",
        "",
        f"`benchmarks/corrections.py`, widenets {__version__}, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {machine}, "
        f"Python {platform.python_version()}, jax {jax.__version__}. 20 training + 4 test "
        f"MNIST images, one hidden layer (tanh), {PROTOCOL.steps} steps (57 recorded), float64. "
        "Seconds; warm = best of "
        f"{REPEATS} repeated calls. The machine was shared with other heavy jobs (load "
        f"average {os.getloadavg()[0]:.0f} on {os.cpu_count()} cores while this ran): "
        "expect these numbers to be noisy and pessimistic.",
        "",
        "| width | parameters | operators, first | operators, warm | "
        "evolution, first | evolution, warm | total warm |",
        "|---|---|---|---|---|---|---|",
    ]
    for width, params, fo, wo, fe, we in rows:
        lines.append(f"| {width} | {params} | {fo:.1f} | {wo:.1f} | {fe:.1f} | {we:.1f} | "
                     f"{wo + we:.1f} |")
    lines += [
        "",
        "The operators cost M + N(N+1)/2 = 234 Jacobian JVPs of the network on the "
        "24-dimensional Gram inputs (P = 25 n parameters instead of 785 n on the images) and "
        "one (576, P) x (P, 400) product: linear in n. The evolution does not depend on n "
        "(tensors of size M N^3); its first call compiles the 10^4-step recursion.",
        "",
        f"One initialization at width {INPUTS_WIDTH}, warm, CPU seconds (process time over "
        "all threads; the evolution, the same on both, is left out):",
        "",
        "| inputs | operators | training run (10^4 steps) | total |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {tower:.1f} | {train:.1f} | {tower + train:.1f} |"
              for name, (tower, train) in speedup.items()]
    pixels, gram = (sum(v) for v in speedup.values())
    lines += ["", f"The Gram inputs are {pixels / gram:.0f} times cheaper here.", ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
