"""Location game on the torus (Fiez, Chasnov & Ratliff, §4.2).

Description:
    Each player picks an angle on the circle; it wants to be close to its own preferred location
    ``φ_i`` and far from the other player. The joint action space is the torus ``[−π, π)²``.

Players and roles:
    ``leader`` (player 1, level 0) and ``follower`` (player 2, level 1); one-dimensional actions.

Actions and bounds:
    ``θ_i ∈ [−π, π)``, periodic (radians).

Costs (dimensionless):
    ``f_i(θ_i, θ_{−i}) = −α_i cos(θ_i − φ_i) + cos(θ_i − θ_{−i})``.

Equilibria:
    No closed form. At the defaults the paper reports (rounded) Nash equilibria (−0.78, 1.18) and
    (1.57, −0.40) and Stackelberg equilibria (−0.53, 1.25) and (1.31, −0.46), all stable; the solver in
    ``stackenv.equilibria`` finds every critical point of ``ω`` and ``ω_S`` on the torus by Newton's
    method from a grid and classifies each (the tests check those four are among them).

Parameters:
    ``alpha`` (``(α_1, α_2)``, attraction strengths, ≥ 0), ``phi`` (``(φ_1, φ_2)``, preferred locations,
    radians). Defaults ``alpha = (1.0, 1.3)``, ``phi = (π/8, π/8)``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np

from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.registry import register

_E = np.array([1.0, -1.0])  # direction of θ_1 − θ_2


@register
class Torus(Game):
    """Two-player location game on the torus."""

    name = "torus"
    defaults = {"alpha": (1.0, 1.3), "phi": (np.pi / 8, np.pi / 8)}

    def __init__(self, alpha=(1.0, 1.3), phi=(np.pi / 8, np.pi / 8)):
        self.alpha = as_float_array(alpha, "alpha", (2,))
        self.phi = as_float_array(phi, "phi", (2,))
        if np.any(self.alpha < 0):
            raise ValueError(f"torus: alpha must be non-negative, got {self.alpha.tolist()}")
        players = [Player.box(n, 1, -np.pi, np.pi, periodic=True) for n in ("leader", "follower")]
        super().__init__(players, [[0], [1]])

    @property
    def params(self):
        return {"alpha": self.alpha.tolist(), "phi": self.phi.tolist()}

    def costs(self, x):
        x = self.check_x(x)
        coupling = np.cos(x[..., 0] - x[..., 1])[..., None]
        return -self.alpha * np.cos(x - self.phi) + coupling

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        s = np.sin(x[..., 0] - x[..., 1])[..., None]
        g = -s * _E  # gradient of cos(θ_1 − θ_2), shared by both players
        g[..., i] += self.alpha[i] * np.sin(x[..., i] - self.phi[i])
        return g

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        c = np.cos(x[..., 0] - x[..., 1])[..., None, None]
        H = -c * np.outer(_E, _E)
        H[..., i, i] += self.alpha[i] * np.cos(x[..., i] - self.phi[i])
        return H

    def dhessian(self, i, x, u):
        i, x, u = self.check_player(i), self.check_x(x), self.check_x(u)
        s = np.sin(x[..., 0] - x[..., 1])
        T = (s * (u @ _E))[..., None, None] * np.outer(_E, _E)
        T[..., i, i] += -self.alpha[i] * np.sin(x[..., i] - self.phi[i]) * u[..., i]
        return T

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """Follower's best response in closed form: ``θ_2 = arg(α_2 e^{iφ_2} − e^{iθ_1})``.

        ``f_2(θ_1, ·) = −Re[(α_2 e^{iφ_2} − e^{iθ_1}) e^{−iθ_2}]`` is a single sinusoid in ``θ_2``, so its
        unique local minimiser is the global one; undefined (``ValueError``) where the amplitude vanishes.
        """
        x = self.check_x(x).copy()
        if self.check_level(k) >= 1:
            return x
        z = self.alpha[1] * np.exp(1j * self.phi[1]) - np.exp(1j * x[..., 0])
        if np.any(np.abs(z) < 1e-12):
            raise ValueError("torus: the follower's cost is constant in θ_2 here; its best response is undefined")
        x[..., 1] = self.wrap(np.stack([x[..., 0], np.angle(z)], -1))[..., 1]
        return x
