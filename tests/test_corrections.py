"""Closed forms (eq. 101-105) against a numerical integration of the truncated tower, and the
discrete recursion (eq. 106-122) against its eta -> 0 limit."""

import dataclasses

import jax
import numpy as np
import pytest

from widenets_nb import operators
from widenets_nb.corrections import closed_forms as corrections
from widenets_nb.nets import Network

N_TRAIN = 4
TIMES = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 40.0])


@pytest.fixture(scope="module")
def tower():
    net = Network(input_dim=3, width=6, depth=1, activation="tanh")
    params = net.sample(jax.random.key(1))
    x = np.asarray(jax.random.normal(jax.random.key(2), (6, 3)))
    return operators.tower(net, params, x[:N_TRAIN], np.array([1.0, -1.0, 1.0, -1.0]),
                           x[N_TRAIN:])


def _scaled(tower, eps):
    return dataclasses.replace(tower, o3=eps * tower.o3, o4=eps * tower.o4)


def test_closed_forms_are_the_first_order_of_the_integrated_tower(tower):
    """O_3, O_4 -> eps O_3, eps O_4 (what 1/n does): the closed forms are linear in eps and
    must equal d/deps of the solve_ivp solution at eps = 0. The central difference has error
    O(eps^2) relative, 1e-6 at eps = 1e-3; solve_ivp runs at rtol 1e-11."""
    eps = 1e-3
    plus = corrections.tower_ode(_scaled(tower, eps), TIMES)
    minus = corrections.tower_ode(_scaled(tower, -eps), TIMES)
    lead = corrections.continuous(tower, TIMES, "leading")
    full = corrections.continuous(tower, TIMES)
    d_f = (plus.f - minus.f) / (2 * eps)
    d_theta = (plus.theta - minus.theta) / (2 * eps)
    assert np.abs(d_f).max() > 0.1 and np.abs(d_theta).max() > 0.1
    np.testing.assert_allclose(full.f - lead.f, d_f, atol=1e-5 * np.abs(d_f).max())
    np.testing.assert_allclose(full.theta - lead.theta, d_theta,
                               atol=1e-5 * np.abs(d_theta).max())
    # the leading order is the eps = 0 tower: f^0 = y + e^{-t Theta_0}(f_0 - y) everywhere
    zero = corrections.tower_ode(_scaled(tower, 0.0), TIMES)
    np.testing.assert_allclose(lead.f, zero.f, atol=1e-9)


def test_late_time_kernel_is_the_limit_of_theta_1(tower):
    k = corrections.kernel_correction(tower)
    np.testing.assert_allclose(k(np.array([0.0]))[0], 0.0, atol=1e-12)
    long = k(np.array([1e4 / k.lam.min()]))[0]
    np.testing.assert_allclose(long, corrections.theta_late(tower), atol=1e-12)
    # eq. 105: decay rates of Theta_0 + Theta_inf; at t = 0 it starts from f_0, and at late
    # times its residual decays like the slowest mode of the corrected kernel
    kernel = tower.theta[:N_TRAIN] + k.late[:N_TRAIN]
    late = corrections.late_time(tower, np.array([0.0, 200.0, 201.0]))
    np.testing.assert_allclose(late[0], tower.f0[:N_TRAIN], atol=1e-12)
    r0, r1 = late[1] - tower.y, late[2] - tower.y
    rate = -np.log(np.linalg.norm(r1) / np.linalg.norm(r0))
    assert rate == pytest.approx(np.linalg.eigvalsh(kernel).min(), rel=1e-3)


@pytest.mark.parametrize("eps", [1.0, 0.05])
def test_discrete_recursion_converges_to_the_tower_as_eta_vanishes(tower, eps):
    """Step s at rate eta meets the tower at t = eta s with an O(eta) error: halving eta
    halves the gap (ratio 2 within 10%)."""
    t = _scaled(tower, eps)
    ode = corrections.tower_ode(t, TIMES)
    gaps = []
    for eta in (1e-2, 5e-3):
        steps = np.round(TIMES / eta).astype(int)
        pred = corrections.discrete(t, eta, steps)
        gaps.append(max(np.abs(pred.f - ode.f).max(), np.abs(pred.theta - ode.theta).max()))
    assert gaps[0] < 5e-3
    assert gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.1)


def test_discrete_leading_order_is_the_linear_model(tower):
    """Eq. (109): Df_s = (1 - eta Theta_0)^s Df_0 on the training set."""
    eta, steps = 0.3, np.array([0, 1, 7, 50])
    pred = corrections.discrete(tower, eta, steps, "leading")
    step = np.eye(N_TRAIN) - eta * tower.theta[:N_TRAIN]
    expect = [np.linalg.matrix_power(step, s) @ (tower.f0[:N_TRAIN] - tower.y) for s in steps]
    np.testing.assert_allclose(pred.f[:, :N_TRAIN] - tower.y, expect, atol=1e-12)


def test_discrete_recursion_computes_in_float64_in_a_float32_session(tower, float32):
    """The recursion scopes float64 itself: in a float32 session it returns float64 and the
    same numbers as in a float64 one (the reference below is computed with x64 on)."""
    steps = np.array([0, 5, 50])
    pred = corrections.discrete(tower, 0.2, steps)
    with jax.enable_x64(True):
        reference = corrections.discrete(tower, 0.2, steps)
    assert not jax.config.jax_enable_x64
    assert pred.f.dtype == np.float64 and pred.theta.dtype == np.float64
    np.testing.assert_array_equal(pred.f, reference.f)
    np.testing.assert_array_equal(pred.theta, reference.theta)


def test_bad_inputs(tower):
    with pytest.raises(ValueError, match="increasing"):
        corrections.discrete(tower, 0.1, [3, 2])
    with pytest.raises(ValueError, match="order"):
        corrections.continuous(tower, TIMES, "second")
    with pytest.raises(ValueError, match="diverged"):
        corrections.discrete(tower, 50.0, [0, 2000])
    singular = dataclasses.replace(tower, theta=np.zeros_like(tower.theta))
    with pytest.raises(ValueError, match="singular"):
        corrections.continuous(singular, TIMES)
