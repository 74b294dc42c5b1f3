"""GD/SGD training: loss conventions, SGD = GD at full batch, the linearized limit, divergence."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import Network
from widenets_nb.dynamics import DivergenceError, TrainConfig, log_steps, train, train_many
from widenets_nb.nets import init_many
from widenets_nb.ntk import ntk


def _data(n=8, dim=4, seed=0):
    x = jax.random.normal(jax.random.PRNGKey(seed), (n, dim))
    y = jnp.sign(x[:, 0])
    return x, y


def test_log_steps_and_config_validation():
    assert log_steps(16) == (0, 1, 2, 4, 8, 16)
    assert log_steps(20) == (0, 1, 2, 4, 8, 16, 20)
    assert TrainConfig(steps=10, record_steps=(0, 5, 10)).records == (0, 5, 10)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="record_steps"):
        TrainConfig(steps=4, record_steps=(0, 8))
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig(learning_rate=-1.0)


def test_gd_decreases_the_loss_and_records_theta():
    x, y = _data()
    net = Network(input_dim=4, width=64, depth=2, activation="tanh")
    params = net.sample(jax.random.PRNGKey(1))
    run = train(net, params, x, y, TrainConfig(learning_rate=0.5, steps=32),
                pairs=np.array([[0, 1], [2, 2]]))
    assert np.all(np.diff(run.loss) < 0)
    assert run.loss[-1] < 0.5 * run.loss[0]
    theta0 = ntk(net, params, x)
    np.testing.assert_allclose(run.theta[0], [theta0[0, 1], theta0[2, 2]], rtol=1e-12)
    np.testing.assert_allclose(run.f[0, :, 0], net.scalar(params, x), rtol=1e-12)
    full = train(net, params, x, y, TrainConfig(learning_rate=0.5, steps=32), full_kernel=True)
    np.testing.assert_allclose(full.theta[:, [0, 2], [1, 2]], run.theta, rtol=1e-10)


def test_sgd_with_full_batch_equals_gd():
    x, y = _data()
    net = Network(input_dim=4, width=32, depth=2, activation="relu")
    params = net.sample(jax.random.PRNGKey(2))
    gd = train(net, params, x, y, TrainConfig(learning_rate=0.5, steps=20))
    sgd = train(net, params, x, y, TrainConfig(learning_rate=0.5, steps=20, optimizer="sgd",
                                               batch_size=len(x), seed=5))
    np.testing.assert_allclose(sgd.f, gd.f, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sgd.loss, gd.loss, rtol=1e-10)
    small = train(net, params, x, y, TrainConfig(learning_rate=0.5, steps=20, optimizer="sgd",
                                                 batch_size=2, seed=5))
    assert np.abs(small.f - gd.f).max() > 1e-4


def test_sum_loss_is_mean_loss_with_rescaled_learning_rate():
    x, y = _data()
    net = Network(input_dim=4, width=32, depth=1, activation="erf")
    params = net.sample(jax.random.PRNGKey(3))
    mean = train(net, params, x, y, TrainConfig(learning_rate=0.8, steps=10))
    total = train(net, params, x, y, TrainConfig(learning_rate=0.1, steps=10, loss="sum"))
    np.testing.assert_allclose(total.f, mean.f, rtol=1e-10)
    np.testing.assert_allclose(total.loss, len(x) * mean.loss, rtol=1e-10)


def _linearized_error(width, seeds, steps=8, eta=1.0):
    """max |f_t - f_lin_t| / max |f_t - f_0| with f_lin from Theta_0 (mean loss)."""
    x, y = _data()
    net = Network(input_dim=4, width=width, depth=1, activation="tanh")
    errors = []
    for seed in seeds:
        params = net.sample(jax.random.PRNGKey(seed))
        run = train(net, params, x, y, TrainConfig(learning_rate=eta, steps=steps,
                                                   record_steps=tuple(range(steps + 1))))
        theta0 = np.asarray(ntk(net, params, x))
        lin = [np.asarray(run.f[0, :, 0])]
        for _ in range(steps):
            lin.append(lin[-1] - eta * theta0 @ (lin[-1] - np.asarray(y)) / len(x))
        f = run.f[..., 0]
        errors.append(np.abs(f - np.array(lin)).max() / np.abs(f - f[0]).max())
    return float(np.mean(errors))


def test_training_matches_the_linearized_model_at_large_width():
    wide = _linearized_error(4096, seeds=(0, 1))
    narrow = _linearized_error(256, seeds=(0, 1))
    assert wide < 0.01
    assert wide < narrow / 4  # the deviation is O(1/n): 16x in width -> well below 1/4


def test_too_large_learning_rate_raises_divergence_error():
    x, y = _data()
    net = Network(input_dim=4, width=32, depth=2, activation="relu")
    params = net.sample(jax.random.PRNGKey(4))
    with pytest.raises(DivergenceError, match=r"learning rate 500.*2/lambda_max"):
        train(net, params, x, y, TrainConfig(learning_rate=500.0, steps=50))
    many = init_many(net, jax.random.PRNGKey(5), 3)
    with pytest.raises(ValueError, match="diverged"):
        train_many(net, many, x, y, TrainConfig(learning_rate=500.0, steps=50), progress=False)


def test_train_many_equals_train_per_initialization():
    x, y = _data()
    net = Network(input_dim=4, width=16, depth=2, activation="tanh")
    many = init_many(net, jax.random.PRNGKey(6), 3)
    pairs = np.array([[[0, 1]], [[2, 3]], [[4, 4]]])
    config = TrainConfig(learning_rate=0.5, steps=8, optimizer="sgd", batch_size=4)
    batch = train_many(net, many, x, y, config, pairs=pairs, chunk=2, progress=False)
    for i in range(3):
        one = train(net, jax.tree.map(lambda a, i=i: a[i], many), x, y, config, pairs=pairs[i])
        np.testing.assert_allclose(batch.theta[i], one.theta, rtol=1e-10)
        np.testing.assert_allclose(batch.f[i], one.f, rtol=1e-10, atol=1e-12)
