"""neural-tangents' empirical NTK on given parameters: the peer column of ``ntk.py``.

Runs in its own virtual environment (built by ``ntk.py --nt``, never the suite's), one
method per process: ``python nt_peer.py METHOD IN.npz OUT.npy`` loads the ReLU MLP's
``U``, ``W1``..``W{d-1}``, ``V`` and the inputs ``x`` written by ``ntk.py``, builds the
same network with ``stax`` (NTK parameterization, no biases; the first layer's W_std =
sqrt(D) undoes stax's 1/sqrt(D), as the suite's first layer has no input scaling), and
prints one JSON line: compile + first call, best of three calls after it, peak resident
memory, versions. The kernel (inputs x inputs) is saved to OUT.npy for the comparison.

``neural_tangents.experimental`` (TensorFlow interop) is replaced by an empty module
before the import: it needs TensorFlow, which this benchmark does not use.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import types
from importlib import metadata

sys.modules["neural_tangents.experimental"] = types.ModuleType("neural_tangents.experimental")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

IMPLEMENTATIONS = {
    "nt_structured": (nt.NtkImplementation.STRUCTURED_DERIVATIVES, None),
    "nt_vector_products": (nt.NtkImplementation.NTK_VECTOR_PRODUCTS, 16),
}


def main(method: str, source: str, target: str) -> None:
    data = np.load(source)
    x = jnp.asarray(data["x"], jnp.float32)
    depth = 1 + sum(name.startswith("W") for name in data.files)
    widths = [data["U"].shape[0]] + [data[f"W{l}"].shape[0] for l in range(1, depth)]
    layers = [stax.Dense(widths[0], W_std=x.shape[1] ** 0.5, b_std=None), stax.Relu()]
    for width in widths[1:]:
        layers += [stax.Dense(width, W_std=1.0, b_std=None), stax.Relu()]
    layers.append(stax.Dense(data["V"].shape[1], W_std=1.0, b_std=None))
    init_fn, apply_fn, _ = stax.serial(*layers)
    _, template = init_fn(jax.random.PRNGKey(0), x.shape)
    weights = [data["U"].T] + [data[f"W{l}"].T for l in range(1, depth)] + [data["V"]]
    params, dense = [], iter(weights)
    for p in template:  # Dense layers hold (W (in, out), b); Relu holds ()
        params.append((jnp.asarray(next(dense), jnp.float32), p[1]) if p else p)
    implementation, batch = IMPLEMENTATIONS[method]
    kernel_fn = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0,
                                    implementation=implementation)
    fn = jax.jit(kernel_fn) if batch is None else nt.batch(kernel_fn, batch_size=batch)
    start = time.perf_counter()
    theta = jax.block_until_ready(fn(x, None, params))
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(fn(x, None, params))
        times.append(time.perf_counter() - start)
    theta = np.asarray(theta).reshape(x.shape[0], x.shape[0])
    np.save(target, theta)
    forward = float(np.abs(np.asarray(apply_fn(params, x)) - data["f"]).max())
    print(json.dumps({
        "method": method, "compile_s": compile_s, "time_s": min(times),
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "forward_max_diff": forward, "versions": {
            "neural_tangents": metadata.version("neural-tangents"),
            "jax": jax.__version__, "jaxlib": jax.lib.__version__,
            "numpy": np.__version__}}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
