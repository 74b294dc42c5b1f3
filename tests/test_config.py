"""config: profiles, and the precision that WIDENETS_X64 sets at import (and nothing else)."""

import os
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
