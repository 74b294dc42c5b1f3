"""O(1/n) predictions of training trajectories (Sec. 3.1, App. E.4, eq. 11-12, 101-122).

Loss convention: the summed MSE L = sum_a (f(x_a) - y_a)^2 / 2 (``dynamics`` with
``loss="sum"``), so gradient flow is df/dt = -Theta (f - y) and a GD step with learning rate
eta is theta -> theta - eta sum_a grad f(x_a) Df_a, with Df = f - y on the training set.

Truncating the tower dO_s/dt = -O_{s+1} . Df (eq. 10) at O_4 = O_4(0) is exact to O(1/n):
E[O_s] = O(n^{1 - s/2}) (s even) or O(n^{(1-s)/2}) (s odd), so O_5 and beyond only enter at
O(n^-2). Inputs are a ``operators.Tower`` (training points first, then other inputs).

Continuous time (``continuous``): with Theta_0 = sum_i lambda_i e_i e_i^T on the training set,
c = E^T (f_0 - y) and h[z_0..z_k](t) the divided differences of z -> exp(-t z),

    Theta_1(t) = sum_i (O_3 . e_i) c_i h[0, lambda_i]
               + sum_ij (e_i^T O_4 e_j) c_i c_j h[0, lambda_i, lambda_i + lambda_j]     (eq. 101)

which is a sum of exponentials exp(-t rate) with rates 0, lambda_i, lambda_i + lambda_j; its
t -> infinity limit is Theta_inf (eq. 104). f on the training set follows eq. (103), every
term an exponential convolution; at other inputs, df(x)/dt = -[Theta_0 + Theta_1](x, .) Df(t)
with the corrected Df(t) on the training set.

Discrete time (``discrete``): the truncated GD recursion (eq. 106-122) iterated numerically,
keeping the eta^2 and eta^3 terms that survive at O(1/n) and evolving O_{1,1} (eq. 118).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..operators import Tower


@dataclasses.dataclass(frozen=True)
class Prediction:
    """A predicted trajectory on the tower's inputs X (training points first).

    Attributes:
      times: (T,) the times (continuous) or steps (discrete) at which it is given.
      f: (T, M) f(x; t) on all inputs.
      theta: (T, M, N) Theta(x, training point; t).
      order: ``"leading"`` (constant kernel, the infinite-width dynamics of this
        initialization) or ``"corrected"`` (to O(1/n)).
    """

    times: np.ndarray
    f: np.ndarray
    theta: np.ndarray
    order: str


def _spectrum(tower: Tower) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues, eigenvectors of Theta_0 on the training set and c = E^T (f_0 - y)."""
    n = tower.n_train
    lam, vecs = np.linalg.eigh(tower.theta[:n])
    if lam[0] <= 1e-12 * lam[-1]:
        raise ValueError(f"Theta_0 on the training set is singular (smallest eigenvalue "
                         f"{lam[0]:.3g}); remove duplicate training inputs.")
    return lam, vecs, vecs.T @ (tower.f0[:n] - tower.y)


def _times(times: ArrayLike) -> np.ndarray:
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if t.size == 0 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("times must be finite and non-negative.")
    return t


def _decay(t: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """(1 - exp(-t rate)) / rate = int_0^t exp(-s rate) ds, stable; shape t.shape + rate.shape."""
    tr = np.multiply.outer(t, rate)
    small = tr < 1e-8
    safe = np.where(small, 1.0, tr)
    phi = np.where(small, 1.0 - tr / 2, -np.expm1(-safe) / safe)
    return phi * t.reshape(t.shape + (1,) * np.ndim(rate))


def _convolve(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int_0^t exp(-(t - s) a) exp(-s b) ds = (e^{-tb} - e^{-ta}) / (a - b), stable for a ~ b."""
    low = np.minimum(a, b)
    tt = t.reshape(t.shape + (1,) * np.ndim(low))
    return np.exp(-tt * low) * _decay(t, np.abs(a - b))


@dataclasses.dataclass(frozen=True)
class KernelCorrection:
    """Theta_1(t) = A + sum_i B_i e^{-t lambda_i} + sum_ij C_ij e^{-t (lambda_i + lambda_j)}.

    Attributes (eq. 101, 104), rows x over all inputs, columns a over training points:
      late: (M, N) A = Theta_inf.
      single: (M, N, N) B[x, a, i].
      double: (M, N, N, N) C[x, a, i, j].
      lam: (N,) the eigenvalues of Theta_0.
    """

    late: np.ndarray
    single: np.ndarray
    double: np.ndarray
    lam: np.ndarray

    def __call__(self, times: ArrayLike) -> np.ndarray:
        """Theta_1 at ``times``: (T, M, N)."""
        t = _times(times)[:, None]
        lam = self.lam
        return (self.late + np.einsum("xai,ti->txa", self.single, np.exp(-t * lam))
                + np.einsum("xaij,tij->txa", self.double,
                            np.exp(-t[:, :, None] * (lam[:, None] + lam[None, :]))))


def kernel_correction(tower: Tower) -> KernelCorrection:
    """Eq. (101) as a sum of exponentials: h[0, l] = (e^{-tl} - 1)/l and
    h[0, l_i, l_i + l_j] = 1/(l_i (l_i + l_j)) - e^{-t l_i}/(l_i l_j)
    + e^{-t(l_i + l_j)}/(l_j (l_i + l_j))."""
    lam, vecs, c = _spectrum(tower)
    p3 = np.einsum("xac,ci,i->xai", tower.o3, vecs, c)
    p4 = np.einsum("xacd,ci,dj,i,j->xaij", tower.o4, vecs, vecs, c, c, optimize=True)
    li, lj = lam[:, None], lam[None, :]
    late = -p3 @ (1 / lam) + np.einsum("xaij,ij->xa", p4, 1 / (li * (li + lj)))
    single = p3 / lam - np.einsum("xaij,ij->xai", p4, 1 / (li * lj))
    double = p4 / (lj * (li + lj))
    return KernelCorrection(late, single, double, lam)


def theta_late(tower: Tower) -> np.ndarray:
    """Eq. (104): Theta_inf = lim_{t -> inf} Theta_1(t), (M, N)."""
    return kernel_correction(tower).late


def continuous(tower: Tower, times: ArrayLike, order: str = "corrected") -> Prediction:
    """Gradient flow to O(1/n) (eq. 101, 103) or at leading order (constant Theta_0).

    f on the training set: f = f^0 + f^1 with f^0 = y + e^{-t Theta_0}(f_0 - y) and
    f^1 = -int_0^t e^{-(t-s) Theta_0} Theta_1(s) Df^0(s) ds (eq. 103). At other inputs x:
    f(x; t) = f_0(x) - int_0^t [Theta_0(x, .) (Df^0 + f^1) + Theta_1(x, .) Df^0] ds, where
    int Theta_0(x, .) (.) = w^T int Theta_0 (.) with w^T = Theta_0(x, train) Theta_0^{-1},
    and int Theta_0 (Df^0 + f^1) = f_0 - f(t) - int Theta_1 Df^0 on the training set.
    """
    if order not in ("leading", "corrected"):
        raise ValueError(f"order must be 'leading' or 'corrected', got {order!r}.")
    t = _times(times)
    n = tower.n_train
    lam, vecs, c = _spectrum(tower)
    theta0 = np.broadcast_to(tower.theta, (t.size,) + tower.theta.shape)
    f_lead_train = tower.y + (np.exp(-np.outer(t, lam)) * c) @ vecs.T
    w = np.linalg.solve(tower.theta[:n], tower.theta.T).T          # (M, N)
    if order == "leading":
        integral = (_decay(t, lam) * c) @ vecs.T                       # int Df^0
        f = tower.f0 - integral @ tower.theta.T
        f[:, :n] = f_lead_train
        return Prediction(t, f, np.array(theta0), order)
    k = kernel_correction(tower)
    # rotate the columns (training index a) into the eigenbasis: Theta_1(x, .) e_l
    late, single, double = (np.einsum("xa...,al->xl...", m, vecs)
                            for m in (k.late, k.single, k.double))
    pair = lam[:, None] + lam[None, :]
    # int_0^t Theta_1(x, .) Df^0 ds: Df^0 = sum_l e_l c_l e^{-s lambda_l}
    drive = (np.einsum("xl,l,tl->tx", late, c, _decay(t, lam))
             + np.einsum("xli,l,tli->tx", single, c, _decay(t, lam[:, None] + lam[None, :]))
             + np.einsum("xlij,l,tlij->tx", double, c,
                         _decay(t, lam[:, None, None] + pair[None])))
    # f^1 on the training set in the eigenbasis k: rows rotated as well
    rl, rs, rd = (np.einsum("ak,al...->kl...", vecs, m[:n]) for m in (late, single, double))
    lk = lam[:, None]
    f1 = -(np.einsum("kl,l,tkl->tk", rl, c, _convolve(t, lk, lam[None, :]))
           + np.einsum("kli,l,tkli->tk", rs, c, _convolve(t, lk[:, :, None], pair[None]))
           + np.einsum("klij,l,tklij->tk", rd, c,
                       _convolve(t, lk[:, :, None, None], (lam[:, None, None] + pair[None])[None])))
    f_train = f_lead_train + f1 @ vecs.T
    flow = (tower.f0[:n] - f_train) - drive[:, :n]                    # int Theta_0 (Df^0 + f^1)
    f = tower.f0 - flow @ w.T - drive
    f[:, :n] = f_train
    return Prediction(t, f, theta0 + k(t), order)


def late_time(tower: Tower, times: ArrayLike) -> np.ndarray:
    """Eq. (105): f(t) = y + e^{-t (Theta_0 + Theta_inf)} (f_0 - y) on the training set, (T, N).

    Right decay rates to O(1/n), amplitudes only to leading order (use ``continuous``)."""
    t = _times(times)
    n = tower.n_train
    kernel = tower.theta[:n] + theta_late(tower)[:n]
    lam, vecs = np.linalg.eigh((kernel + kernel.T) / 2)
    c = vecs.T @ (tower.f0[:n] - tower.y)
    return tower.y + (np.exp(-np.outer(t, lam)) * c) @ vecs.T


@functools.partial(jax.jit, static_argnames=("corrected",))
def _iterate(state, consts, bounds, eta, corrected):
    """GD recursion (eq. 106-122) over recording intervals (``bounds``: (R, 2) step ranges).

    The four constant tensors K, d2Theta, O_4, dO_{1,1} are stacked into one (4 M N^2, N)
    matrix: a step is bound by reading it once (one matrix-vector product)."""
    y, stacked = consts
    m, n = state[1].shape

    def step(_, s):
        f, theta, o3, o11 = s
        df = f[:n] - y
        f_next = f - eta * theta @ df
        if not corrected:
            return f_next, theta, o3, o11
        k3, d2, o4, do11 = jnp.split((stacked @ df).reshape(4 * m * n, n), 4)
        k3_df = k3 @ df
        f_next = f_next + (eta**2 / 2 * (o11 @ df) - eta**3 / 6 * k3_df).reshape(m, n) @ df
        theta_next = theta - eta * (o3 @ df).reshape(m, n) + eta**2 / 2 * (d2 @ df).reshape(m, n)
        return f_next, theta_next, o3 - eta * o4, o11 - eta * do11

    def interval(s, bound):
        s = jax.lax.fori_loop(bound[0], bound[1], step, s)
        return s, (s[0], s[1])

    return jax.lax.scan(interval, state, bounds)[1]


def discrete(tower: Tower, learning_rate: float, steps: ArrayLike,
             order: str = "corrected") -> Prediction:
    """GD with learning rate eta on the summed MSE, to O(1/n) or at leading order.

    Per step, with Df = f - y on the training set (eq. 106-122):
      f      += -eta Theta Df + eta^2/2 O_{1,1}(Df, Df) - eta^3/6 K(Df, Df, Df)
      Theta  += -eta O_3 . Df + eta^2/2 d2Theta(Df, Df)
      O_3    += -eta O_4 . Df            (O_4 constant)
      O_{1,1} += -eta dO_{1,1} . Df      (eq. 118; dO_{1,1}, K, d2Theta constant)
    ``order="leading"`` keeps Theta = Theta_0 and only the first term. Computes in float64
    (``jax.enable_x64``, scoped to the call): the corrections are O(1/n^2)-accurate.

    Args:
      steps: increasing recorded steps (0 = initialization).
    """
    if order not in ("leading", "corrected"):
        raise ValueError(f"order must be 'leading' or 'corrected', got {order!r}.")
    if not (learning_rate > 0 and np.isfinite(learning_rate)):
        raise ValueError(f"learning_rate must be positive, got {learning_rate}.")
    record = np.asarray(steps, dtype=np.int64).reshape(-1)
    if record.size == 0 or record[0] < 0 or np.any(np.diff(record) <= 0):
        raise ValueError("steps must be increasing non-negative integers.")
    bounds = np.stack([np.concatenate([[0], record[:-1]]), record], axis=1)
    m, n = tower.theta.shape
    stacked = np.concatenate([a.reshape(-1, n) for a in (tower.k3, tower.d2theta, tower.o4,
                                                         tower.do11)])
    with jax.enable_x64(True):
        state = (jnp.asarray(tower.f0), jnp.asarray(tower.theta),
                 jnp.asarray(tower.o3.reshape(m * n, n)),
                 jnp.asarray(tower.o11.reshape(m * n, n)))
        consts = (jnp.asarray(tower.y), jnp.asarray(stacked))
        f, theta = jax.device_get(_iterate(state, consts, jnp.asarray(bounds), learning_rate,
                                           order == "corrected"))
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(theta))):
        raise ValueError(f"the predicted recursion diverged at learning rate {learning_rate:g}; "
                         "lower it (GD needs eta < 2 / lambda_max(Theta_0)).")
    return Prediction(record.astype(np.float64), np.asarray(f), np.asarray(theta), order)


def tower_ode(tower: Tower, times: ArrayLike, rtol: float = 1e-11,
              atol: float = 1e-13) -> Prediction:
    """Integrate the truncated tower numerically (``scipy.integrate.solve_ivp``, DOP853):
    df/dt = -Theta Df, dTheta/dt = -O_3 . Df, dO_3/dt = -O_4 . Df, O_4 constant (eq. 10).

    The closed forms of ``continuous`` are its first-order expansion in (O_3, O_4)."""
    from scipy.integrate import solve_ivp

    t = _times(times)
    n, m = tower.n_train, tower.f0.size
    sizes = np.cumsum([m, m * n])

    def rhs(_, z):
        f, theta, o3 = np.split(z, sizes)
        theta, o3 = theta.reshape(m, n), o3.reshape(m, n, n)
        df = f[:n] - tower.y
        return np.concatenate([-theta @ df, -(o3 @ df).ravel(), -(tower.o4 @ df).ravel()])

    z0 = np.concatenate([tower.f0, tower.theta.ravel(), tower.o3.ravel()])
    sol = solve_ivp(rhs, (0.0, float(t.max())), z0, method="DOP853", t_eval=np.sort(t),
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise ValueError(f"solve_ivp failed: {sol.message}")
    out = sol.y.T[np.argsort(np.argsort(t))]
    return Prediction(t, out[:, :m], out[:, m:sizes[1]].reshape(-1, m, n), "tower")
