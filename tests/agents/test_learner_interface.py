"""The learner interface: roles, feedback, dimensions, registry, play loop over every env kind, divergence."""

from __future__ import annotations

import numpy as np
import pytest

import agents
from agents import PowerSchedule as P
from stackenv.envs import BatchedStackelbergEnv, StackelbergAECEnv, StackelbergParallelEnv
from stackenv.games import make


# ---------------------------------------------------------------------------------------------- construction checks
def test_role_checks_raise_naming_the_learner_and_agent():
    duo, chain = make("duopoly"), make("hierarchy")
    for name in ("hierarchical", "lola", "lola_newton", "n_followers", "zeroth_order_hierarchical"):
        with pytest.raises(ValueError, match=rf"{name}.*follower"):
            agents.make_learner(name).bind(duo, "follower")
        agents.make_learner(name).bind(chain, "follower_0")  # a middle level has levels below: a leader too
    with pytest.raises(ValueError, match="best_response.*leader"):
        agents.make_learner("best_response").bind(duo, "leader")
    with pytest.raises(ValueError, match="unknown agent"):
        agents.make_learner("gradient").bind(duo, "nobody")


def test_feedback_checks():
    duo = make("duopoly")
    bad = [
        ("gradient", "leader", "hierarchical"),  # a leader's hierarchical obs is Df_1, not ∇_1 f_1
        ("gradient", "leader", "reward"),
        ("hierarchical", "leader", "gradient"),
        ("lola", "leader", "hierarchical"),
        ("lola_newton", "leader", "gradient"),
    ]
    for name, agent, fb in bad:
        with pytest.raises(ValueError, match=f"feedback mode {fb!r}"):
            agents.make_learner(name).bind(duo, agent, fb)
    for name, agent, fb in [("gradient", "follower", "hierarchical"), ("zeroth_order", "leader", "gradient")]:
        agents.make_learner(name).bind(duo, agent, fb)
    with pytest.raises(ValueError, match="unknown feedback"):
        agents.make_learner("gradient").bind(duo, "leader", "telepathy")


def test_dimension_checks():
    game = make("zero_sum", instance="spurious")  # d_1 = d_2 = 2
    learner = agents.GradientPlay().bind(game, "leader", "gradient")
    with pytest.raises(ValueError, match=r"x0 must have shape \(B, 2\)"):
        learner.reset(np.zeros((4, 3)))
    learner.reset(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"observation must have shape \(4, 2\)"):
        learner.update(np.zeros((4, 3)), np.zeros(4), 1)
    leader = agents.HierarchicalLeader().bind(game, "leader", "second_order")
    leader.reset(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="second_order blocks"):
        leader.update({"grad": np.zeros((4, 4)), "H22": np.zeros((4, 3, 3)), "H21": np.zeros((4, 2, 2))}, None, 1)
    with pytest.raises(ValueError, match="not bound"):
        agents.GradientPlay().reset(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="radius"):
        agents.ZerothOrder(radius=60.0).bind(make("duopoly"), "leader")


def test_registry_defaults_roles_and_feedback():
    names = agents.list_learners()
    required = {"gradient", "hierarchical", "lola", "lola_newton", "best_response", "zeroth_order"}
    assert required <= set(names)
    game = make("duopoly")
    for name in names:
        spec = agents.learner_spec(name)
        learner = agents.make_learner(name)  # constructible with defaults
        assert learner.name == name and spec.roles == learner.roles and spec.roles
        for role in spec.roles:
            assert name in agents.list_learners(role=role)
            for fb in spec.feedback(role):
                assert name in agents.list_learners(role=role, feedback=fb)
                agents.make_learner(name).bind(game, "leader" if role == "leader" else "follower", fb)
    followers = {n for n in names if "follower" in agents.learner_spec(n).roles}
    assert set(agents.list_learners(role="follower")) == followers
    assert agents.learner_spec("lola").feedback("leader") == ("second_order",)
    with pytest.raises(ValueError, match="unknown learner 'nope'; registered: best_response"):
        agents.make_learner("nope")
    with pytest.raises(ValueError, match="bad arguments"):
        agents.make_learner("gradient", nonsense=1)
    with pytest.raises(ValueError, match="unknown role"):
        agents.list_learners(role="king")
    with pytest.raises(ValueError, match="already registered"):

        class Impostor(agents.GradientPlay):
            pass

        agents.register_learner(Impostor, name="gradient")


def test_choose_feedback_pairings():
    duo = make("duopoly")
    G, H, L = agents.GradientPlay, agents.HierarchicalLeader, agents.LOLA
    assert agents.choose_feedback(duo, {"leader": G(), "follower": G()}) == "gradient"
    assert agents.choose_feedback(duo, {"leader": H(), "follower": G()}) == "hierarchical"
    assert agents.choose_feedback(duo, {"leader": L(), "follower": G()}) == "second_order"
    assert agents.choose_feedback(duo, {"leader": H(), "follower": agents.ZerothOrder()}) == "hierarchical"

    class RewardOnly(agents.GradientPlay):
        name = "reward_only"

        def feedback_modes(self, has_below):
            return ("reward",)

    with pytest.raises(ValueError, match="no single feedback mode.*leader \\(lola\\): second_order"):
        agents.choose_feedback(duo, {"leader": L(), "follower": RewardOnly()})


# ---------------------------------------------------------------------------------------------- play loop
def test_play_records_every_nth_step_and_projects_onto_the_domain():
    game = make("duopoly")
    env = BatchedStackelbergEnv(game, num_envs=5, feedback="gradient", noise_std=1.0)
    learners = {"leader": agents.GradientPlay(), "follower": agents.GradientPlay()}
    traj = agents.play(env, learners, 95, record_every=10, seed=0)
    assert list(traj.steps) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]
    assert traj.x.shape == (11, 5, 2) and traj.costs.shape == (11, 5, 2) and traj.rewards.shape == (11, 5, 2)
    np.testing.assert_allclose(traj.costs, game.costs(traj.x))
    np.testing.assert_allclose(traj.rewards[1:], -traj.costs[1:])  # rewards are exact outside reward mode
    assert np.all((traj.x >= 0) & (traj.x <= game.A))  # γ_1 = 1 throws the first step out of the box: clipped
    torus = make("torus")
    env = BatchedStackelbergEnv(torus, num_envs=8, feedback="gradient")
    learners = {"leader": agents.GradientPlay(5.0), "follower": agents.GradientPlay(5.0)}  # big steps: wraps
    traj = agents.play(env, learners, 20, seed=0)
    assert np.all((traj.x >= -np.pi) & (traj.x < np.pi))
    assert np.all((learners["leader"].x >= -np.pi) & (learners["leader"].x < np.pi))


def test_divergence_stops_the_run_with_a_reason():
    class Exploding(agents.GradientPlay):
        name = "exploding"

        def _step(self, obs, reward, k):
            new = super()._step(obs, reward, k)
            if k == 3:
                new[1] = np.nan
            return new

    game = make("zero_sum", instance="prop2")
    env = BatchedStackelbergEnv(game, num_envs=3, feedback="gradient")
    learners = {"leader": Exploding(), "follower": agents.GradientPlay()}
    traj = agents.play(env, learners, 10, seed=0)
    assert list(traj.stopped) == [False, True, False] and list(traj.stop_step) == [-1, 3, -1]
    assert "leader: non-finite iterate at step 3" in traj.stop_reason[1]
    assert np.all(np.isfinite(traj.x)) and np.all(np.isfinite(traj.x_final))
    np.testing.assert_array_equal(traj.x[4:, 1], np.broadcast_to(traj.x[3, 1], traj.x[4:, 1].shape))  # frozen
    assert not learners["follower"].active[1]  # halted in every learner
    # growth past diverge_norm counts as divergence too (gradient play with γ = 50 on an unbounded-looking box)
    learners = {"leader": agents.GradientPlay(50.0), "follower": agents.GradientPlay(50.0)}
    traj = agents.play(env, learners, 10, seed=0, diverge_norm=5.0)
    assert traj.stopped.all() and all("norm exceeded 5" in r for r in traj.stop_reason)


@pytest.mark.parametrize("rule", [agents.GradientPlay, agents.OptimisticGradient])
@pytest.mark.parametrize(("dtype", "diverge_norm"), [(np.float64, 1e12), (np.float32, 1e12), (np.float64, 39.0)])
def test_block_followers_equal_one_learner_per_agent(rule, dtype, diverge_norm):
    """One learner holding all N followers (a block, as n_follower_learners builds them) gives bit for bit the
    trajectories of one learner per follower, stops included (a small ``diverge_norm`` stops runs mid-way)."""
    N, B, K = 7, 4, 60
    game = make("oligopoly", follower_costs=np.linspace(1.0, 4.0, N).tolist())
    followers = [game.agents[i] for i in game.levels[1]]
    runs = []
    for block in (True, False):
        learners = {"leader": agents.NFollowerLeader(P(1.0, 1.0))}
        shared = rule(P(0.3, 2 / 3))
        learners.update({a: shared if block else rule(P(0.3, 2 / 3)) for a in followers})
        env = BatchedStackelbergEnv(game, num_envs=B, feedback="hierarchical", noise_std=1.0, dtype=dtype)
        x0 = np.full((B, game.d), 10.0) + np.arange(B)[:, None]  # norms grow from 28-37 to ~39 over the run
        runs.append((agents.play(env, learners, K, seed=5, x0=x0, diverge_norm=diverge_norm), learners))
    (blocked, lb), (single, ls) = runs
    assert lb[followers[0]].agents == tuple(followers)  # the followers did play as one block
    np.testing.assert_array_equal(blocked.x, single.x)
    np.testing.assert_array_equal(blocked.stopped, single.stopped)
    assert blocked.stop_reason == single.stop_reason
    np.testing.assert_array_equal(lb[followers[0]].x, np.concatenate([ls[a].x for a in followers], axis=1))
    np.testing.assert_array_equal(lb[followers[0]].active, ls[followers[-1]].active)
    if diverge_norm < 1e12:
        assert blocked.stopped.any()


def test_blocks_are_one_level_on_adjacent_coordinates():
    game = make("oligopoly", follower_costs=[1.0, 2.0, 3.0])
    block = agents.GradientPlay().bind(game, ["follower_0", "follower_1"], "hierarchical")
    assert block.dim == 2 and block.slice == slice(1, 3) and block.agents == ("follower_0", "follower_1")
    with pytest.raises(ValueError, match="adjacent"):
        agents.GradientPlay().bind(game, ["follower_0", "follower_2"])
    with pytest.raises(ValueError, match="one level"):
        agents.GradientPlay().bind(game, ["leader", "follower_0"])
    with pytest.raises(ValueError, match="one agent at a time"):
        agents.BestResponse().bind(game, ["follower_0", "follower_1"])
    with pytest.raises(ValueError, match="AEC"):
        shared = agents.GradientPlay()
        learners = {"leader": agents.NFollowerLeader(), **dict.fromkeys(game.agents[1:], shared)}
        agents.play(StackelbergAECEnv(game, feedback="hierarchical"), learners, 5, seed=0)


def _pair(kind):
    if kind == "stackelberg":
        return {"leader": agents.HierarchicalLeader(), "follower": agents.GradientPlay(P(1, 2 / 3))}, "hierarchical"
    return {"leader": agents.HierarchicalLeader(), "follower": agents.BestResponse()}, "hierarchical"


@pytest.mark.parametrize("kind", ["stackelberg", "best_response"])
def test_parallel_and_aec_envs_reproduce_the_batched_env(kind):
    """Copy b of a batched env seeded s is the PettingZoo env seeded s + b (architecture §3); with float32
    observations (as PettingZoo's) and float64 actions the learners see identical inputs, so play gives the same
    trajectory through the batched, parallel (B = 1) and leader-first AEC envs."""
    game, s, K = make("duopoly"), 3, 50
    learners, fb = _pair(kind)
    batched = BatchedStackelbergEnv(game, num_envs=2, feedback=fb, noise_std=np.sqrt(10), dtype=np.float32)
    ref = agents.play(batched, learners, K, seed=s)
    for Env in (StackelbergParallelEnv, StackelbergAECEnv):
        learners, fb = _pair(kind)
        traj = agents.play(Env(game, feedback=fb, noise_std=np.sqrt(10)), learners, K, seed=s + 1)
        assert traj.x.shape == (K + 1, 1, 2)
        np.testing.assert_allclose(traj.x[:, 0], ref.x[:, 1], rtol=1e-12, err_msg=Env.__name__)
        np.testing.assert_allclose(traj.rewards[1:, 0], ref.rewards[1:, 1], rtol=1e-6, err_msg=Env.__name__)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 0, -3, 2.5, "10"])
def test_play_refuses_bad_step_counts_with_a_clear_error(bad):
    env = BatchedStackelbergEnv(make("duopoly"), num_envs=2, feedback="gradient")
    learners = {"leader": agents.GradientPlay(0.01), "follower": agents.GradientPlay(0.01)}
    with pytest.raises(ValueError, match="steps must be a positive"):
        agents.play(env, learners, steps=bad)
    with pytest.raises(ValueError, match="record_every must be a positive"):
        agents.play(env, learners, steps=10, record_every=bad)
