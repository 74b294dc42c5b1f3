"""Shared test setup: float64 everywhere (dense references need it), and a float32 lane.

The tables and panels run in float32 (JAX's default) for users; tests that take the
``float32`` fixture run their body with float64 switched off, so that path is tested too.
"""

import jax
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture(autouse=True, scope="module")
def _drop_compiled_programs():
    """Drop JAX's compiled programs before each test module. Each holds memory mappings
    of its own (the LLVM code and data of XLA's CPU backend; some 150 for a ReLU NTK
    program): kept all suite long they reached the kernel's limit (``vm.max_map_count``,
    65530) and XLA aborted in the middle of a compilation ("LLVM compilation error: Cannot
    allocate memory")."""
    jax.clear_caches()
    yield


@pytest.fixture
def float32():
    """Run the test body in float32 (``jax.enable_x64(False)``, scoped to the test)."""
    with jax.enable_x64(False):
        yield
