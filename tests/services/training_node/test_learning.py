"""A short DQN training on a steady trend learns to hold it, the same way for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from services.training_node.env import EnvFlex, MarketArrays
from services.training_node.evaluate import position_rewards
from services.training_node.model import NUMPY_ACTIVATIONS, CustomDQNModel, NumpyQ
from services.training_node.settings import (
    EnvironmentSettings,
    HyperParameters,
    ModelArchitecture,
)
from services.training_node.trainer import ReplayBuffer, Trainer, epsilon_at

BARS, SPLIT = 600, 400


def trend() -> MarketArrays:
    noise = np.random.default_rng(1).standard_normal(BARS)
    return MarketArrays.from_close(100 * np.exp(np.cumsum(0.002 + 0.001 * noise)))


def train_and_score(seed: int) -> tuple[float, np.ndarray, list[float]]:
    arrays = trend()
    settings = EnvironmentSettings(window=4, features=["returns", "position"], episode_bars=50)
    train = EnvFlex(arrays, settings, 0, SPLIT, fit_stop=SPLIT)
    test = EnvFlex(
        arrays, settings.model_copy(update={"episode_bars": None}), SPLIT - 1, BARS, fit_stop=SPLIT
    )
    hp = HyperParameters(
        steps=600,
        gamma=0.9,
        learning_starts=50,
        batch_size=32,
        replay_size=1000,
        target_update_period=50,
        seed=seed,
    )
    trainer = Trainer(train, ModelArchitecture(hidden_layers=[32]), hp)
    result = trainer.train()
    positions = trainer.greedy_positions(test)
    steps = slice(test.first, test.first + len(positions))
    rewards = position_rewards(positions, test.next_return[steps], test.cost)
    return float(rewards.sum()), positions, [p["loss"] for p in result.losses]


class TestLearning:
    def test_beats_a_random_policy_clearly_and_repeats_for_the_same_seed(self) -> None:
        score, positions, losses = train_and_score(seed=3)
        arrays = trend()
        next_return = arrays.next_return[SPLIT - 1 : BARS - 1]
        rng = np.random.default_rng(0)
        random_scores = [
            position_rewards(
                rng.choice([0.0, 1.0, -1.0], len(next_return)), next_return, 1e-4
            ).sum()
            for _ in range(20)
        ]
        buy_and_hold = next_return.sum()
        assert score > max(random_scores) + 0.5 * buy_and_hold  # random scores ~0, hold ~0.4
        assert np.mean(positions == 1.0) > 0.8
        again, positions_again, losses_again = train_and_score(seed=3)
        assert again == score
        assert np.array_equal(positions, positions_again)
        assert losses == losses_again


class TestReplayBuffer:
    def test_ring_overwrites_the_oldest(self) -> None:
        buffer = ReplayBuffer(3, 1)
        for i in range(5):
            buffer.add(
                np.array([i], dtype=np.float32),
                i,
                float(i),
                np.array([i + 1.0], dtype=np.float32),
                False,
            )
        assert len(buffer) == 3
        assert sorted(buffer.actions.tolist()) == [2, 3, 4]

    def test_epsilon_falls_linearly_then_stays(self) -> None:
        hp = HyperParameters(
            steps=100, epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_fraction=0.5
        )
        assert epsilon_at(0, hp) == 1.0
        assert epsilon_at(25, hp) == pytest.approx(0.55)
        assert epsilon_at(80, hp) == pytest.approx(0.1)


class TestNumpyQ:
    @pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
    @pytest.mark.parametrize("dueling", [True, False])
    def test_matches_the_keras_network(self, activation: str, dueling: bool) -> None:
        architecture = ModelArchitecture(
            hidden_layers=[8, 5],
            activation=activation,
            dueling=dueling,
        )
        model = CustomDQNModel(architecture).build(6, 3)
        numpy_q = NumpyQ(architecture, [v.path for v in model.trainable_variables])
        numpy_q.load([np.asarray(v.numpy()) for v in model.trainable_variables])
        observations = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
        expected = np.asarray(model(observations))
        for row, want in zip(observations, expected, strict=True):
            assert numpy_q(row) == pytest.approx(want, abs=1e-5)

    def test_follows_the_weights_as_they_train(self) -> None:
        arrays = trend()
        settings = EnvironmentSettings(window=2, features=["returns", "position"], episode_bars=20)
        env = EnvFlex(arrays, settings, 0, 200)
        hp = HyperParameters(steps=60, learning_starts=10, batch_size=8, replay_size=100)
        trainer = Trainer(env, ModelArchitecture(hidden_layers=[8]), hp)
        trainer.train()
        obs, _ = env.reset()
        assert trainer._numpy_q is not None
        want = np.asarray(trainer.online(obs[None, :]))[0]
        assert trainer._numpy_q(obs) == pytest.approx(want, abs=1e-5)
