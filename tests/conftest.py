"""Shared test setup: float64 everywhere (dense references need it)."""

import jax

jax.config.update("jax_enable_x64", True)
