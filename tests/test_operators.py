"""The tower operators against their definition (eq. 9) by nested autodiff on a tiny net."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb import dynamics, operators
from widenets_nb.nets import Network
from widenets_nb.ntk import ntk

N_TRAIN = 3
TOL = 1e-11  # float64 round-off on O(1) entries of a width-5 net


@pytest.fixture(scope="module")
def tiny():
    net = Network(input_dim=3, width=5, depth=2, activation="tanh", bias=True)
    params = net.sample(jax.random.PRNGKey(1))
    x = np.asarray(jax.random.normal(jax.random.PRNGKey(2), (5, 3)))
    y = np.array([1.0, -1.0, 0.5])
    return net, params, x, y, operators.tower(net, params, x[:N_TRAIN], y, x[N_TRAIN:], batch=2)


def _flat(net, params):
    flat, unravel = ravel_pytree(params)
    f = lambda t, xi: net.scalar(unravel(t), xi)  # noqa: E731
    return flat, f, jax.grad(f)


def _o(s, f, grad, theta, xs):
    """Eq. (9) literally: O_s = grad O_{s-1} . grad f(x_s), every gradient at theta."""
    if s == 1:
        return f(theta, xs[0])
    return jnp.dot(jax.grad(lambda q: _o(s - 1, f, grad, q, xs[:-1]))(theta), grad(theta, xs[-1]))


def _grid(fn, *axes):
    """fn on every combination of one input from each of ``axes`` (jit + nested vmap)."""
    for k in reversed(range(len(axes))):
        fn = jax.vmap(fn, in_axes=tuple(0 if j == k else None for j in range(len(axes))))
    return np.asarray(jax.jit(fn)(*axes))


def test_o3_o4_match_the_recursive_definition(tiny):
    net, params, x, _, tower = tiny
    flat, f, grad = _flat(net, params)
    n = N_TRAIN
    o3 = _grid(lambda *xs: _o(3, f, grad, flat, xs), x, x[:n], x[:n])
    o4 = _grid(lambda *xs: _o(4, f, grad, flat, xs), x, x[:n], x[:n], x[:n])
    assert np.abs(o3).max() > 0.05 and np.abs(o4).max() > 0.05
    np.testing.assert_allclose(tower.o3, o3, atol=TOL)
    np.testing.assert_allclose(tower.o4, o4, atol=TOL)
    np.testing.assert_allclose(tower.theta, np.asarray(ntk(net, params, x, x[:n])), atol=TOL)
    # O_4 is symmetric in its first two arguments but not in its last two
    np.testing.assert_allclose(o4[:n], o4[:n].transpose(1, 0, 2, 3), atol=TOL)
    assert np.abs(o4 - o4.transpose(0, 1, 3, 2)).max() > 0.01


def test_discrete_time_tensors_match_nested_jacfwd(tiny):
    net, params, x, _, tower = tiny
    flat, f, grad = _flat(net, params)
    n = N_TRAIN
    g = np.stack([grad(flat, xi) for xi in x])
    hess = np.stack([jax.hessian(f)(flat, xi) for xi in x])
    third = np.stack([jax.jacfwd(jax.hessian(f))(flat, xi) for xi in x])
    gt = g[:n]
    np.testing.assert_allclose(tower.o11, np.einsum("xuv,au,bv->xab", hess, gt, gt), atol=TOL)
    np.testing.assert_allclose(tower.k3, np.einsum("xuvw,au,bv,cw->xabc", third, gt, gt, gt),
                               atol=TOL)

    def o11(theta, xi, xa, xb):  # all gradients move with theta
        return grad(theta, xa) @ jax.hessian(f)(theta, xi) @ grad(theta, xb)

    do11 = _grid(lambda xi, xa, xb, xc: jax.jvp(lambda t: o11(t, xi, xa, xb), (flat,),
                                                (grad(flat, xc),))[1], x, x[:n], x[:n], x[:n])
    np.testing.assert_allclose(tower.do11, do11, atol=TOL)
    # second derivative of Theta(x1, x2) along fixed directions g_a, g_b
    d2 = np.einsum("iuvw,ju,av,bw->ijab", third, g[:n], gt, gt)
    d2 = d2 + np.einsum("juvw,iu,av,bw->ijab", third[:n], g, gt, gt)
    d2 = d2 + np.einsum("iuv,av,jus,bs->ijab", hess, gt, hess[:n], gt)
    d2 = d2 + np.einsum("iuv,bv,jus,as->ijab", hess, gt, hess[:n], gt)
    np.testing.assert_allclose(tower.d2theta, d2, atol=TOL)


def test_contractions_along_gradient_combinations(tiny):
    net, params, x, _, tower = tiny
    u, v = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.5, -0.2])
    xt = x[:N_TRAIN]
    np.testing.assert_allclose(operators.o3_dot(net, params, x, xt, xt, u),
                               np.einsum("ijc,c->ij", tower.o3, u), atol=TOL)
    np.testing.assert_allclose(operators.o4_dot(net, params, x, xt, xt, u, v),
                               np.einsum("ijcd,c,d->ij", tower.o4, u, v), atol=TOL)
    # the argument order matters: swapping u and v gives another number
    swapped = operators.o4_dot(net, params, x, xt, xt, v, u)
    assert np.abs(swapped - np.einsum("ijcd,c,d->ij", tower.o4, u, v)).max() > 1e-3


def test_reduction_to_the_span_is_exact():
    net = Network(input_dim=40, width=16, depth=2, activation="erf", input_scaling=True)
    params = net.sample(jax.random.PRNGKey(3))
    x = np.asarray(jax.random.uniform(jax.random.PRNGKey(4), (6, 40)))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    r = operators.reduce_to_span(net, params, x)
    assert r.x.shape == (6, 6) and r.net.num_params < net.num_params
    np.testing.assert_allclose(r.net.scalar(r.params, r.x), net.scalar(params, x), atol=1e-13)
    np.testing.assert_allclose(ntk(r.net, r.params, r.x), ntk(net, params, x), atol=1e-13)
    cfg = dynamics.TrainConfig(learning_rate=0.5, steps=20, loss="sum", record_steps=(0, 20))
    a = dynamics.train(net, params, x[:4], y, cfg, x_eval=x)
    b = dynamics.train(r.net, r.params, r.x[:4], y, cfg, x_eval=r.x)
    assert np.abs(a.f[-1] - a.f[0]).max() > 0.01
    np.testing.assert_allclose(b.f, a.f, atol=1e-12)


def test_bad_inputs_raise_clear_errors(tiny):
    net, params, x, y, _ = tiny
    with pytest.raises(ValueError, match="linearly dependent"):
        operators.reduce_to_span(net, params, np.concatenate([x, x[:1]]))
    with pytest.raises(ValueError, match="targets|entries"):
        operators.tower(net, params, x[:N_TRAIN], y[:2])
    with pytest.raises(ValueError, match="one weight per input"):
        operators.o3_dot(net, params, x, x, x[:N_TRAIN], y[:2])
