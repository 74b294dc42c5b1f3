import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb.kernels import infinite_width
from widenets_nb.nets import MLP, Network, init_many, outputs_at_init

X = np.array([[0.3, -0.8, 0.5, 1.1]])


@pytest.mark.parametrize("activation,depth", [("linear", 1), ("relu", 1), ("relu", 2)])
def test_output_variance_matches_infinite_width(activation, depth):
    # For a single input, E[f(x)^2] = K(x, x) exactly at every width for linear and ReLU
    # nets (the per-layer second moment recursion is linear), so the sample variance must
    # agree with the NNGP value within its Monte Carlo standard error.
    net = Network(input_dim=4, width=512, depth=depth, activation=activation, input_scaling=True)
    f = np.asarray(outputs_at_init(net, X, 1000 * (3 - depth), jax.random.key(1)))[:, 0]
    second = np.mean(f**2)
    stderr = np.std(f**2, ddof=1) / np.sqrt(len(f))
    expected = infinite_width(net, X).nngp[0, 0]
    if activation == "linear":
        assert expected == pytest.approx(np.sum(X**2) / 4)
    assert abs(second - expected) < 4 * stderr, (second, expected, stderr)


def test_sign_init_is_plus_minus_one():
    net = Network(input_dim=3, width=16, depth=3, init="sign", bias=True)
    params = net.sample(jax.random.key(0))
    for value in params.values():
        assert set(np.unique(np.asarray(value))) == {-1.0, 1.0}


def test_sampler_is_deterministic_and_vmaps():
    net = Network(input_dim=3, width=8, depth=2, activation="tanh")
    a = net.sample(jax.random.key(7))
    b = net.sample(jax.random.key(7))
    c = net.sample(jax.random.key(8))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["U"], c["U"])
    many = init_many(net, jax.random.key(7), 5)
    assert many["W1"].shape == (5, 8, 8)
    # chunking does not change the numbers
    x = np.ones((2, 3))
    f1 = outputs_at_init(net, x, 10, jax.random.key(3), chunk=3)
    f2 = outputs_at_init(net, x, 10, jax.random.key(3), chunk=10)
    np.testing.assert_allclose(f1, f2, rtol=1e-12)


def test_forward_matches_explicit_formula():
    net = Network(input_dim=2, width=(3, 5), depth=2, activation="tanh", bias=True,
                  input_scaling=True, outputs=2)
    p = net.sample(jax.random.key(2))
    x = np.array([0.4, -1.3])
    z1 = p["U"] @ x / np.sqrt(2)
    z2 = p["W1"] @ np.tanh(z1) / np.sqrt(3) + p["b1"]
    expected = np.tanh(z2) @ p["V"] / np.sqrt(5)
    np.testing.assert_allclose(net.apply(p, x), expected, rtol=1e-12)
    assert net.apply(p, np.ones((7, 2))).shape == (7, 2)
    assert net.num_params == 3 * 2 + 5 * 3 + 5 + 5 * 2


def test_flax_module_agrees():
    net = Network(input_dim=4, width=6, depth=3, activation="erf", bias=True)
    module = MLP(net)
    x = jnp.ones((2, 4))
    params = module.init(jax.random.key(0), x)["params"]
    assert {k: v.shape for k, v in params.items()} == net.shapes()
    np.testing.assert_allclose(module.apply({"params": params}, x), net.apply(params, x))


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(input_dim=4, activation="swish"), "unknown activation 'swish'"),
        (dict(input_dim=4, width=0), "width must be a positive integer"),
        (dict(input_dim=4, width=-3), "width must be a positive integer"),
        (dict(input_dim=4, depth=0), "depth must be a positive integer"),
        (dict(input_dim=0), "input_dim must be a positive integer"),
        (dict(input_dim=4, init="uniform"), "unknown init 'uniform'"),
        (dict(input_dim=4, depth=2, width=(4, 4, 4)), "width has 3 entries but depth is 2"),
    ],
)
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        Network(**kwargs)


def test_mismatched_input_dimension():
    net = Network(input_dim=4, width=8)
    with pytest.raises(ValueError, match="input_dim=4"):
        net.apply(net.sample(jax.random.key(0)), np.ones(3))
