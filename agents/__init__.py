"""Learning rules behind one batched interface, step-size schedules, and the play loop.

    from agents import make_learner, list_learners, play
    learners = {"leader": make_learner("hierarchical"), "follower": make_learner("gradient", lr=PowerSchedule(1, 2/3))}
    traj = play(env, learners, steps=10_000)

Registered learners (``list_learners()``), roles and the feedback they need:

=============================  ===================  ==========================================
name                           roles                feedback (leader seat / follower seat)
=============================  ===================  ==========================================
``gradient``                   leader, follower     gradient, second_order / + hierarchical
``optimistic``                 leader, follower     gradient, second_order / + hierarchical
``hierarchical``               leader               hierarchical, second_order
``lola``                       leader               second_order
``lola_newton``                leader               second_order
``n_followers``                leader               hierarchical, second_order (Krylov)
``newton_response``            follower (block)     gradient, hierarchical, second_order
``chain``                      leader, follower     hierarchical, second_order / + gradient
``zeroth_order``               leader, follower     any (uses rewards only)
``zeroth_order_hierarchical``  leader               any (uses rewards only)
``best_response``              follower             any (uses the game)
``extragradient``              leader, follower     gradient, second_order / + hierarchical
``lookahead``                  leader, follower     second_order (``jacobian`` blocks)
``sos``                        leader, follower     second_order (``jacobian`` blocks)
``sga``                        leader, follower     second_order (``jacobian`` blocks)
``consensus``                  leader, follower     second_order (``jacobian`` blocks)
``cgd``                        leader, follower     second_order (``jacobian`` blocks)
=============================  ===================  ==========================================

The full-information rules (``lookahead`` … ``cgd``; :mod:`agents.differentiable`) need the game Jacobian
``J`` and every player's gradient, which ``second_order`` gives every agent of a game with ``d ≤ 16``.

Not registered (needs a trained model): ``agents.sb3.SB3Learner`` / ``agents.sb3.train_sb3`` — any SB3 algorithm
in either role, trained against learner opponents through ``stackenv.wrappers.SingleAgentEnv``.
"""

from agents.base import FEEDBACK_MODES, Learner, player_roles, provided_needs
from agents.best_response import BestResponse
from agents.cgd import CGD
from agents.chain import ChainLearner, chain_learners, chain_schedules
from agents.consensus import ConsensusOptimization
from agents.extragradient import Extragradient
from agents.gradient import GradientPlay
from agents.hierarchical import HierarchicalLeader
from agents.lola import LOLA, LOLANewton, lola_field
from agents.lookahead import LookAhead
from agents.n_followers import NFollowerLeader, n_follower_learners
from agents.newton_response import NewtonResponse
from agents.optimistic import OptimisticGradient
from agents.play import Trajectory, choose_feedback, play
from agents.registry import LearnerSpec, learner_spec, list_learners, make_learner, register_learner
from agents.schedules import (
    ConstantSchedule,
    PowerSchedule,
    Schedule,
    check_robbins_monro,
    check_timescale_separation,
)
from agents.sga import SGA
from agents.sos import SOS
from agents.zeroth_order import ZerothOrder, ZerothOrderLeader

for _cls in (
    GradientPlay,
    OptimisticGradient,
    HierarchicalLeader,
    LOLA,
    LOLANewton,
    NFollowerLeader,
    NewtonResponse,
    ChainLearner,
    ZerothOrder,
    ZerothOrderLeader,
    BestResponse,
    Extragradient,
    LookAhead,
    SOS,
    SGA,
    ConsensusOptimization,
    CGD,
):
    register_learner(_cls)

__all__ = [
    "FEEDBACK_MODES",
    "LOLA",
    "CGD",
    "SGA",
    "SOS",
    "BestResponse",
    "ChainLearner",
    "ConsensusOptimization",
    "ConstantSchedule",
    "Extragradient",
    "GradientPlay",
    "HierarchicalLeader",
    "LOLANewton",
    "LookAhead",
    "Learner",
    "LearnerSpec",
    "NFollowerLeader",
    "NewtonResponse",
    "OptimisticGradient",
    "PowerSchedule",
    "Schedule",
    "Trajectory",
    "ZerothOrder",
    "ZerothOrderLeader",
    "chain_learners",
    "chain_schedules",
    "check_robbins_monro",
    "check_timescale_separation",
    "choose_feedback",
    "learner_spec",
    "list_learners",
    "lola_field",
    "make_learner",
    "n_follower_learners",
    "play",
    "player_roles",
    "provided_needs",
    "register_learner",
]
