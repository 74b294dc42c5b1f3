"""Fig. 9 on ``gram_inputs``: the network on the N-dimensional inputs L is the network on
the images x with its first layer rotated, U = U' Q^T + G (1 - Q Q^T) with
x / sqrt(D) = (L / sqrt(N)) Q^T, so H's top eigenvalues, Theta and J's row space agree."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from widenets_nb.spectra import measurements

WIDTH, PER_CLASS = 16, 3


def rotated(images: measurements.Setup, gram: measurements.Setup, params: dict,
            key: jax.Array) -> dict:
    """Image parameters equal to ``params`` (on ``gram``) but for the first layer
    U = U' Q^T + G (1 - Q Q^T): the part of U orthogonal to the data span (G) is arbitrary."""
    x, lower = np.asarray(images.x, np.float64), gram.x
    d, n = x.shape[1], len(x)
    q = np.sqrt(n / d) * np.linalg.solve(lower, x).T  # (D, N), x / sqrt(D) = L Q^T / sqrt(N)
    np.testing.assert_allclose(q.T @ q, np.eye(n), atol=1e-10)
    g = np.asarray(jax.random.normal(key, (WIDTH, d)))
    first = np.asarray(params["U"]) @ q.T + g @ (np.eye(d) - q @ q.T)
    return {**params, "U": jnp.asarray(first)}


def test_gram_inputs_give_the_image_spectrum_exactly():
    """float64 throughout: H's certified top N eigenvalues on L and on x agree to rtol 1e-8
    (each bound ~1e-13), as do Theta's eigenvalues and each eigenvector's share in J's row
    space; and the top values on L match a dense Hessian (P = 368) computed independently."""
    images = measurements.setup(WIDTH, 2, "tanh", 2, PER_CLASS, seed=1)
    gram = measurements.setup(WIDTH, 2, "tanh", 2, PER_CLASS, seed=1, gram=True)
    assert gram.x.shape == (6, 6) and images.x.shape == (6, 784)
    x = np.asarray(images.x, np.float64)
    np.testing.assert_allclose(gram.x @ gram.x.T / 6, x @ x.T / 784, rtol=1e-12)
    params = gram.net.sample(jax.random.key(2))
    big = rotated(images, gram, params, jax.random.key(3))
    assert measurements.solvers.num_params(big) > 30 * measurements.solvers.num_params(params)
    np.testing.assert_allclose(images.net.apply(big, images.x), gram.net.apply(params, gram.x),
                               rtol=1e-12)

    on_gram = measurements.eigenvalue_gaps(gram, params, count=6, seed=4)
    on_images = measurements.eigenvalue_gaps(images, big, count=6, seed=5)
    assert np.all(on_gram.resolved) and np.all(on_images.resolved)
    assert np.max(on_gram.bounds) < 1e-11 and np.max(on_images.bounds) < 1e-11
    np.testing.assert_allclose(on_images.hessian, on_gram.hessian, rtol=1e-8)
    np.testing.assert_allclose(on_images.theta, on_gram.theta, rtol=1e-8)
    np.testing.assert_allclose(on_images.overlaps, on_gram.overlaps, atol=1e-6)
    np.testing.assert_array_equal(on_images.matched, on_gram.matched)

    flat, unravel = ravel_pytree(params)
    dense = jax.hessian(lambda p: measurements.solvers.loss(gram.net, unravel(p), gram.x,
                                                            gram.y))(flat)
    np.testing.assert_allclose(on_images.hessian, np.linalg.eigvalsh(dense)[::-1][:6],
                               rtol=1e-8)
