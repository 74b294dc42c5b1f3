"""The README's multi-host recipe, run for real: two local processes joined by
``jax.distributed`` (CPU collectives over gloo, coordinator on 127.0.0.1) split a correlator
measurement between them, and each receives every sample, equal to one process's."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from widenets_nb.correlators import estimate

SPEC = "f1_a f2_a"  # the NTK Theta(x_1, x_2): a star the lazy backend samples
WIDTHS = (8, 16)
INITS = 6
SEED = 3

# One process of N: the README's recipe, then a measurement through the lazy backend,
# whose initializations sharding.map_inits spreads over the devices of every process.
SCRIPT = textwrap.dedent(f"""
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=2,
                               process_id=int(sys.argv[2]), initialization_timeout=60)
    from widenets_nb import sharding
    from widenets_nb.correlators import estimate
    m = estimate.measure({SPEC!r}, {WIDTHS}, {INITS}, {SEED}, depth=2, backend="lazy",
                         progress=False)
    print(json.dumps({{"process": jax.process_index(), "processes": jax.process_count(),
                      "local": jax.local_device_count(), "mesh": sharding.mesh().size,
                      "samples": [s.tolist() for s in m.samples]}}))
""")
#: Seconds allowed to the pair (a shared, loaded machine takes many times the idle time),
#: after which both are killed: the test fails instead of hanging.
TIMEOUT = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_processes(tmp_path) -> list[dict]:
    """Run ``SCRIPT`` as processes 0 and 1; kill both if either hangs."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="",
               WIDENETS_CACHE=str(tmp_path / "cache"))
    address = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, address, str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    try:
        outs = [p.communicate(timeout=TIMEOUT) for p in procs]
    except subprocess.TimeoutExpired:
        pytest.fail(f"the two processes did not finish within {TIMEOUT} s")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]


def test_two_processes_split_a_measurement_and_match_one_process(tmp_path):
    got = _two_processes(tmp_path)
    # each process owns one of the mesh's two devices, so each computes half of a chunk
    assert sorted(g["process"] for g in got) == [0, 1]
    assert all((g["processes"], g["local"], g["mesh"]) == (2, 1, 2) for g in got)
    one = estimate.measure(SPEC, WIDTHS, INITS, SEED, depth=2, backend="lazy",
                           progress=False)
    assert len(one.samples) == len(WIDTHS) and one.samples[0].shape == (INITS,)
    for g in got:
        # the same per-initialization program on the same keys: equal to rounding
        np.testing.assert_allclose(g["samples"], np.stack(one.samples), rtol=1e-12,
                                   atol=1e-15)
