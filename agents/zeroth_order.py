"""Zeroth-order (bandit) learners: gradients estimated from one noisy cost per step.

Each player perturbs its own action on a sphere of radius ``δ`` and correlates the observed cost with the
perturbation. With simultaneous play every step yields *one* cost per player, so the classic two-point
estimator ``(d/2δ)(f(x+δu) − f(x−δu)) u`` (Nesterov & Spokoiny 2017) would need two evaluations of the same
opponent action — not available. Two one-evaluation estimators are implemented:

``"residual"`` (default) — one-point *residual feedback* (Zhang, Zhou, Ji & Zavlanos 2022, "A new one-point
    residual-feedback oracle for black-box learning and control", Automatica 136):
        g_k = (d_i / δ_k) (f_i(x̂_k) − f_i(x̂_{k−1})) u_k,     x̂_k = x_k + δ_k u_k,  u_k ~ Unif(S^{d_i−1})
    Since ``u_k`` is independent of the past and has mean zero, ``E[g_k] = ∇ f_{i,δ}(x_k)``, the gradient of the
    sphere-smoothed cost (Flaxman, Kalai & McMahan 2005, Lemma 1), with variance driven by the *change* in
    cost rather than its level.
``"one_point"`` — Flaxman, Kalai & McMahan (2005): ``g_k = (d_i/δ_k) f_i(x̂_k) u_k``; unbiased for the same
    smoothed gradient, but its variance scales with ``f²/δ²`` (usable only for costs near zero).

Update: ``x_{k+1} = Π(x_k − γ_k g_k)`` with ``Π`` the projection onto the shrunk box ``[low + δ, high − δ]`` (so
the played ``x̂`` stays feasible; Flaxman et al.) or the wrap on periodic coordinates. For quadratic costs
the smoothing bias vanishes (``∇f_δ = ∇f``); otherwise it is ``O(δ²)`` (a decaying radius removes it).
Each player's estimate averages over the other players' independent perturbations, so simultaneous
zeroth-order play follows the (smoothed) Nash dynamics ``ẋ = −ω(x)``.

Zeroth-order hierarchical leader (``ZerothOrderLeader``, "zeroth_order_hierarchical"): the leader holds
each perturbed action for ``hold`` steps and uses the cost at the *end* of the hold, after the followers
have reacted. Against a best-response follower (which reacts within the step) the observed cost is
``f_1(x̂_1, r(x̂_1))`` and the estimator is unbiased for the gradient of the smoothed Stackelberg objective,
i.e. for ``Df_1`` of eq. (1) (up to the smoothing bias) — bandit feedback only, no follower model. Against a
gradient-play follower with contraction factor ``ρ`` per step, the cost at the end of a hold was played
after ``hold − 1`` follower updates toward ``r(x̂_1)``, which biases the estimate by about
``ρ^{hold−1} |∇_2 f_1ᵀ Dr|`` (duopoly: ``≈ 23 ρ^{hold−1}``; measured, see the tests) — holding is the
timescale separation; iteration indices of the leader's schedules count holds.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from agents.base import Learner
from agents.schedules import ConstantSchedule, PowerSchedule, Schedule, as_schedule

Estimator = Literal["residual", "one_point"]
ESTIMATORS: tuple[str, ...] = ("residual", "one_point")


def sphere_directions(rng: np.random.Generator, B: int, d: int) -> np.ndarray:
    """``(B, d)`` directions uniform on the unit sphere ``S^{d−1}`` (normalised Gaussians)."""
    z = rng.standard_normal((B, d))
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def residual_estimate(cost: np.ndarray, prev_cost: np.ndarray, u: np.ndarray, delta: float) -> np.ndarray:
    """Residual-feedback estimate ``(d/δ)(f(x̂_k) − f(x̂_{k−1})) u_k`` (Zhang et al. 2022); zero where no
    previous cost exists (``prev_cost`` NaN)."""
    d = u.shape[-1]
    diff = np.where(np.isnan(prev_cost), 0.0, cost - prev_cost)
    return (d / delta) * diff[:, None] * u


def one_point_estimate(cost: np.ndarray, u: np.ndarray, delta: float) -> np.ndarray:
    """One-point estimate ``(d/δ) f(x̂_k) u_k`` (Flaxman, Kalai & McMahan 2005)."""
    return (u.shape[-1] / delta) * cost[:, None] * u


class ZerothOrder(Learner):
    """Bandit gradient descent from one noisy cost per step (module docstring).

    Args:
        lr: step sizes ``γ_k`` (default ``0.5/k``; needs ``γ·curvature > 1/2`` for the ``1/√k`` rate).
        radius: perturbation radius ``δ_k`` (default constant 1.0, in action units).
        estimator: ``"residual"`` or ``"one_point"``.
        hold: steps each perturbed action is held; the update uses the cost at the end of the hold
            and schedules are indexed by the hold count.
    """

    name = "zeroth_order"
    roles = frozenset({"leader", "follower"})
    needs = "reward"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        radius: Schedule | float | None = None,
        estimator: Estimator = "residual",
        hold: int = 1,
    ):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(0.5, 1.0), "lr")
        self.radius = as_schedule(radius if radius is not None else ConstantSchedule(1.0), "radius")
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; valid: {', '.join(ESTIMATORS)}")
        if int(hold) != hold or hold < 1:
            raise ValueError(f"hold must be a positive integer, got {hold!r}")
        self.estimator, self.hold = estimator, int(hold)

    def _bind(self) -> None:
        width = np.min(self.high - self.low)
        if not self.periodic and 2 * self.radius(1) >= width:
            raise ValueError(
                f"{self.name} on {self.agent!r}: radius {self.radius(1):g} too large for a box of width {width:g}"
            )

    def project(self, x: np.ndarray) -> np.ndarray:
        if self.periodic:
            return super().project(x)
        delta = getattr(self, "delta", self.radius(1))
        return np.clip(x, self.low + delta, self.high - delta)

    def _reset(self) -> None:
        self.epoch = 1
        self.delta = self.radius(1)
        self.x = self.project(self.x)
        self.u = sphere_directions(self.rng, self.num_runs, self.dim)
        self.prev_cost = np.full(self.num_runs, np.nan)

    def act(self, x: np.ndarray | None = None) -> np.ndarray:
        played = self.x + self.delta * self.u
        return super().project(played) if self.periodic else played

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        if k % self.hold:
            return self.x  # still holding this perturbation
        cost = -np.asarray(reward, float).reshape(self.num_runs)
        e, delta = self.epoch, self.delta
        if self.estimator == "residual":
            g = residual_estimate(cost, self.prev_cost, self.u, delta)
        else:
            g = one_point_estimate(cost, self.u, delta)
        new = self.x - self.lr(e) * g
        self.prev_cost = cost
        self.epoch = e + 1
        self.delta = self.radius(self.epoch)
        self.u = sphere_directions(self.rng, self.num_runs, self.dim)
        return new


class ZerothOrderLeader(ZerothOrder):
    """Zeroth-order hierarchical leader: :class:`ZerothOrder` holding each perturbation ``hold`` steps
    (default 10) so the observed cost includes the followers' reaction (module docstring)."""

    name = "zeroth_order_hierarchical"
    roles = frozenset({"leader"})

    def __init__(
        self,
        lr: Schedule | float | None = None,
        radius: Schedule | float | None = None,
        estimator: Estimator = "residual",
        hold: int = 10,
    ):
        super().__init__(lr, radius, estimator, hold)
