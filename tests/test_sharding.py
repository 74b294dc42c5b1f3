"""Initializations spread over a device mesh: same numbers on one device or several."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import sharding

SPECS = ["f1 f2", "f1_a f2_a", "f1_a f2_b f3_ab f4"]

# Lazy samples of a small network: run here (one device) and in a subprocess that
# simulates two CPU devices (XLA flags must be set before JAX starts); two processes
# joined by jax.distributed: tests/test_multiprocess.py.
SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from widenets_nb import sharding
    from widenets_nb.correlators import lazy
    from widenets_nb.nets import Network
    net = Network(input_dim=3, width=6, depth=2, activation="tanh")
    xs = np.linspace(0.1, 1.2, 12).reshape(4, 3)
    out = lazy.lazy_samples(json.loads(sys.argv[1]), net, xs, 7, jax.random.key(4),
                            chunk=3, progress=False)
    print(json.dumps({"devices": sharding.mesh().size, "samples": out.tolist()}))
""")


def _env(flags: str = "") -> dict:
    return dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")


def _result(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def _run(flags: str) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(SPECS)], env=_env(flags),
                          capture_output=True, text=True, timeout=600, check=True)
    return _result(done.stdout)


def test_map_inits_matches_vmap_for_any_chunk():
    keys = jax.random.split(jax.random.key(0), 7)
    a = jnp.arange(3.0)
    fn = sharding.batched(lambda key, a: a * jax.random.normal(key))
    want = np.asarray(jax.vmap(lambda k: a * jax.random.normal(k))(keys))
    for chunk in (1, 3, 7, 10):
        got = sharding.map_inits(fn, keys, (a,), chunk=chunk, progress=False)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_bad_chunk_is_a_clear_error():
    fn = sharding.batched(lambda key: jax.random.normal(key))
    with pytest.raises(ValueError, match="chunk"):
        sharding.map_inits(fn, jax.random.split(jax.random.key(0), 2), chunk=0)


@pytest.fixture(scope="module")
def one():
    """The lazy samples from a single-device process."""
    return _run("")


def test_two_simulated_devices_give_the_same_samples(one):
    two = _run("--xla_force_host_platform_device_count=2")
    assert (one["devices"], two["devices"]) == (1, 2)
    np.testing.assert_allclose(two["samples"], one["samples"], rtol=1e-10, atol=1e-14)
    assert np.asarray(one["samples"]).shape == (7, len(SPECS))

