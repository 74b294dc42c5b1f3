"""config: profiles, and the precision that WIDENETS_X64 sets at import (and nothing else)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from widenets_nb import config

SECTIONS = ("prior", "correlators", "diagrams", "training", "corrections", "spectra")
PROBE = "; ".join([
    "import widenets_nb, widenets_nb.reproduce, widenets_nb.__main__",
    *(f"import widenets_nb.{section}.panel" for section in SECTIONS),
    "import jax, jax.numpy as jnp",
    "print(jnp.ones(1).dtype, jax.config.jax_enable_x64)",
])


def _dtype_after_import(x64: str | None) -> str:
    """dtype of a fresh array and the x64 flag after importing every module."""
    env = {k: v for k, v in os.environ.items() if k not in ("WIDENETS_X64", "JAX_ENABLE_X64")}
    if x64 is not None:
        env["WIDENETS_X64"] = x64
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_x64_switch_gives_float64_from_import_and_nothing_else_changes_it():
    assert _dtype_after_import("1") == "float64 True"
    # every module imported, no WIDENETS_X64: JAX's default precision is untouched
    assert _dtype_after_import(None) == "float32 False"


def test_profiles_and_bad_values():
    assert config.profile("QUICK") == "quick"
    with pytest.raises(ValueError, match="not a profile; use one of quick, standard, paper"):
        config.profile("fast")
    with pytest.raises(ValueError, match="not a boolean"):
        config._read_bool("WIDENETS_X64", "maybe")


# A fresh process: import the package, compile one function, report the compilation
# cache's directory and how many programs it answered. The threshold is lowered so that
# this small function (milliseconds to compile) is stored like the panels' (seconds).
CACHE_PROBE = "; ".join([
    "import json, jax, jax.numpy as jnp, widenets_nb",
    "from jax import monitoring",
    "hits = []",
    "monitoring.register_event_listener("
    "lambda event, **_: hits.append(event) if event.endswith('/cache_hits') else None)",
    "jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)",
    "y = jax.jit(lambda x: jnp.sin(x) @ x.T + 1.0)(jnp.arange(6.0).reshape(2, 3))",
    "print(json.dumps({'dir': widenets_nb.config.compilation_cache(), 'hits': len(hits),"
    " 'y': y.tolist()}))",
])


def _compile_in_fresh_process(cache_dir, switch: str | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("WIDENETS_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    env["WIDENETS_CACHE"] = str(cache_dir)
    if switch is not None:
        env["WIDENETS_COMPILATION_CACHE"] = switch
    proc = subprocess.run([sys.executable, "-c", CACHE_PROBE], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_compilation_cache_is_on_by_default_and_reused_by_the_next_process(tmp_path):
    xla = tmp_path / "first" / "xla"
    first = _compile_in_fresh_process(tmp_path / "first", None)
    assert first["dir"] == str(xla) and first["hits"] == 0
    stored = sorted(p.name for p in xla.iterdir())
    assert stored, "the first process stored no compiled program"
    # a copy elsewhere (a cache restored by CI) serves as well: no path in the keys
    shutil.copytree(xla, tmp_path / "second" / "xla")
    second = _compile_in_fresh_process(tmp_path / "second", "1")
    # the second process loads every program from disk instead of compiling it again
    assert second["hits"] >= 1 and second["y"] == first["y"]
    assert sorted(p.name for p in (tmp_path / "second" / "xla").iterdir()) == stored


def test_compilation_cache_switched_off_writes_nothing(tmp_path):
    off = _compile_in_fresh_process(tmp_path, "0")
    assert off["dir"] is None and off["hits"] == 0
    assert not (tmp_path / "xla").exists()


def test_compilation_cache_defaults():
    # compilations of a few seconds (the panels' programs on a CPU) are always stored
    assert 0 < config.MIN_COMPILE_SECONDS <= 1.0
    assert config.COMPILATION_CACHE_DIR == config.CACHE_DIR / "xla"
    assert config._read_bool("WIDENETS_COMPILATION_CACHE", None, default=True) is True
    assert config._read_bool("WIDENETS_COMPILATION_CACHE", "0", default=True) is False
