"""EnvFlex: observations, rewards and costs computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from services.training_node.env import EnvFlex, MarketArrays, windowed
from services.training_node.evaluate import max_drawdown, position_rewards, sharpe_ratio
from services.training_node.settings import EnvironmentSettings

CLOSE = [100.0, 110.0, 99.0, 99.0, 108.9]  # returns: +10 %, -10 %, 0 %, +10 %


def make_env(**settings: object) -> EnvFlex:
    values: dict[str, object] = {"window": 1, "features": ["returns", "position"], "cost_bps": 10.0}
    values.update(settings)
    return EnvFlex(MarketArrays.from_close(CLOSE), EnvironmentSettings.model_validate(values))


class TestRewards:
    def test_long_then_short_then_flat(self) -> None:
        env = make_env()  # actions: 0 flat, 1 long, 2 short; cost 10 bps = 0.001 per unit moved
        env.reset(seed=0)
        _, r1, *_ = env.step(1)  # long over 100 -> 110: +0.10, enter 1 unit: -0.001
        assert r1 == pytest.approx(0.10 - 0.001)
        _, r2, *_ = env.step(2)  # short over 110 -> 99: +0.10, long -> short moves 2 units
        assert r2 == pytest.approx(0.10 - 0.002)
        _, r3, *_ = env.step(2)  # short over 99 -> 99: 0, no move
        assert r3 == pytest.approx(0.0)
        _, r4, terminated, truncated, _ = env.step(0)  # flat over 99 -> 108.9: 0, exit: -0.001
        assert r4 == pytest.approx(-0.001)
        assert terminated
        assert not truncated
        assert env.equity == pytest.approx(1 + r1 + r2 + r3 + r4)

    def test_without_costs_reward_is_position_times_return(self) -> None:
        env = make_env(cost_bps=0.0, action_set="flat_long")
        env.reset()
        rewards = [env.step(1)[1] for _ in range(4)]
        assert rewards == pytest.approx([0.10, -0.10, 0.0, 0.10])

    def test_skip_take_follows_the_strategy_position_sign(self) -> None:
        arrays = MarketArrays.from_close(CLOSE, signal=np.array([1.0, -1.0, 0.0, 1.0, 0.0]))
        settings = EnvironmentSettings(
            window=1, features=["signal"], action_set="skip_take", cost_bps=0.0
        )
        env = EnvFlex(arrays, settings)
        env.reset()
        rewards = [env.step(1)[1] for _ in range(4)]  # take every signal
        assert rewards == pytest.approx([0.10, 0.10, 0.0, 0.10])
        env.reset()
        assert [env.step(0)[1] for _ in range(4)] == [0.0] * 4  # skip every signal

    def test_vectorised_scoring_matches_stepping(self) -> None:
        env = make_env()
        env.reset()
        actions = [1, 2, 2, 0]
        stepped = [env.step(a)[1] for a in actions]
        positions = env.target_positions(actions, env.first)
        scored = position_rewards(positions, env.next_return[env.first : env.first + 4], env.cost)
        assert scored == pytest.approx(stepped)


class TestObservations:
    def test_window_rows_hold_the_last_bars_then_the_position(self) -> None:
        features = np.arange(10, dtype=np.float64).reshape(5, 2)
        rows = windowed(features, 3, with_position=True)
        assert rows.shape == (5, 7)
        assert rows[0].tolist() == [0, 0, 0, 0, 0, 1, 0]  # zeros before bar 0
        assert rows[4].tolist() == [4, 5, 6, 7, 8, 9, 0]

    def test_observation_carries_the_current_position(self) -> None:
        env = make_env(window=2)
        obs, _ = env.reset()
        assert obs[-1] == 0.0
        obs, *_ = env.step(2)
        assert obs[-1] == -1.0

    def test_scales_come_from_the_training_part_only(self) -> None:
        close = np.array([100.0, 101.0, 100.0, 101.0, 200.0, 400.0])
        arrays = MarketArrays.from_close(close)
        settings = EnvironmentSettings(window=1, features=["returns"])
        early = EnvFlex(arrays, settings, 0, 4, fit_stop=4).observations[:4]
        full = EnvFlex(arrays, settings, 0, 6, fit_stop=4).observations[:4]
        assert early == pytest.approx(full)  # later bars do not change earlier features

    @pytest.mark.filterwarnings("ignore:.*Box observation space:UserWarning")
    def test_gymnasium_checker_accepts_it(self) -> None:
        env = make_env(window=2, episode_bars=2)
        check_env(env, skip_render_check=True)

    def test_episode_bars_truncate_from_a_seeded_start(self) -> None:
        close = 100 + np.arange(50, dtype=np.float64)
        settings = EnvironmentSettings(window=2, episode_bars=5)
        env = EnvFlex(MarketArrays.from_close(close), settings)
        env.reset(seed=7)
        first_start = env.t
        steps = 0
        while True:
            *_, terminated, truncated, _ = env.step(0)
            steps += 1
            if terminated or truncated:
                break
        assert steps == 5
        assert truncated
        env.reset(seed=7)
        assert env.t == first_start


class TestMetrics:
    def test_max_drawdown_counts_the_start_as_a_peak(self) -> None:
        rewards = np.array([0.1, -0.2, 0.05])  # equity 1, 1.1, 0.9, 0.95
        assert max_drawdown(rewards) == pytest.approx(0.9 / 1.1 - 1)

    def test_sharpe_is_annualised_mean_over_std(self) -> None:
        rewards = np.array([0.01, 0.03])
        assert sharpe_ratio(rewards, 4) == pytest.approx(0.02 / np.std(rewards, ddof=1) * 2)
        assert sharpe_ratio(np.zeros(3), 252) is None
