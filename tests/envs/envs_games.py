"""Small user-defined games for the env tests (not registered: they exercise the generic constructor)."""

from __future__ import annotations

import numpy as np

from stackenv.games.base import Game, Player


class Bilinear(Game):
    """``f_1 = x_1² + x_1 x_2``, ``f_2 = x_1 x_2``: the follower's cost is linear in its own action, so
    ``H22 = 0`` everywhere and hierarchical feedback is undefined."""

    name = "bilinear_test"
    quadratic = True

    def __init__(self):
        super().__init__([Player.box("leader", 1, -1.0, 1.0), Player.box("follower", 1, -1.0, 1.0)])

    def costs(self, x):
        x = np.asarray(x, float)
        a, b = x[..., 0], x[..., 1]
        return np.stack([a * a + a * b, a * b], -1)

    def grad(self, i, x):
        x = np.asarray(x, float)
        a, b = x[..., 0], x[..., 1]
        return np.stack([2 * a + b, a], -1) if i == 0 else np.stack([b, a], -1)

    def hessian(self, i, x):
        H = np.array([[2.0, 1.0], [1.0, 0.0]]) if i == 0 else np.array([[0.0, 1.0], [1.0, 0.0]])
        return np.broadcast_to(H, np.asarray(x).shape[:-1] + (2, 2)).copy()


class Planar(Game):
    """Two players with 2-d actions and smooth non-quadratic costs (exercises the generic kernel).

    ``f_1 = |x_1|² + x_1·x_2 + sin(x_{2,0})``, ``f_2 = |x_2 − x_1|² + 0.1 Σ x_2⁴``; boxes ``[−2, 2]²``.
    """

    name = "planar_test"

    def __init__(self):
        super().__init__([Player.box("leader", 2, -2.0, 2.0), Player.box("follower", 2, -2.0, 2.0)])

    def costs(self, x):
        x = np.asarray(x, float)
        a, b = x[..., :2], x[..., 2:]
        f1 = (a * a).sum(-1) + (a * b).sum(-1) + np.sin(b[..., 0])
        f2 = ((b - a) ** 2).sum(-1) + 0.1 * (b**4).sum(-1)
        return np.stack([f1, f2], -1)

    def grad(self, i, x):
        x = np.asarray(x, float)
        a, b = x[..., :2], x[..., 2:]
        if i == 0:
            gb = a.copy()
            gb[..., 0] += np.cos(b[..., 0])
            return np.concatenate([2 * a + b, gb], -1)
        return np.concatenate([-2 * (b - a), 2 * (b - a) + 0.4 * b**3], -1)

    def hessian(self, i, x):
        x = np.asarray(x, float)
        b = x[..., 2:]
        I2 = np.eye(2)
        H = np.zeros(x.shape[:-1] + (4, 4))
        if i == 0:
            H[..., :2, :2] = 2 * I2
            H[..., :2, 2:] = I2
            H[..., 2:, :2] = I2
            H[..., 2, 2] = -np.sin(b[..., 0])
        else:
            H[..., :2, :2] = 2 * I2
            H[..., :2, 2:] = -2 * I2
            H[..., 2:, :2] = -2 * I2
            H[..., 2:, 2:] = 2 * I2
            H[..., 2, 2] += 1.2 * b[..., 0] ** 2
            H[..., 3, 3] += 1.2 * b[..., 1] ** 2
        return H

    def dhessian(self, i, x, u):
        x, u = np.asarray(x, float), np.asarray(u, float)
        b = x[..., 2:]
        T = np.zeros(x.shape[:-1] + (4, 4))
        if i == 0:
            T[..., 2, 2] = -np.cos(b[..., 0]) * u[..., 2]
        else:
            T[..., 2, 2] = 2.4 * b[..., 0] * u[..., 2]
            T[..., 3, 3] = 2.4 * b[..., 1] * u[..., 3]
        return T


class NoHessian(Bilinear):
    """A game that cannot provide second derivatives."""

    name = "nohessian_test"
    quadratic = False

    def hessian(self, i, x):
        raise NotImplementedError("no Hessians here")
