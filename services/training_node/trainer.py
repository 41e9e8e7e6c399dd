"""`Trainer`: DQN with a NumPy ring replay buffer, a target network and epsilon-greedy play.

Deterministic for a given seed: Keras, NumPy and Python are seeded, TensorFlow
runs deterministic kernels on a fixed number of threads, and the trainer's own
randomness (exploration, replay sampling) comes from one seeded generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf

from services.training_node.env import EnvFlex, Observation
from services.training_node.model import (
    NUMPY_ACTIVATIONS,
    CustomDQNModel,
    NumpyQ,
    configure_tensorflow,
)
from services.training_node.settings import HyperParameters, ModelArchitecture


class ReplayBuffer:
    """The last `capacity` transitions in preallocated arrays; the oldest is overwritten."""

    def __init__(self, capacity: int, observation_size: int) -> None:
        self.capacity = capacity
        self.observations = np.zeros((capacity, observation_size), dtype=np.float32)
        self.next_observations = np.zeros((capacity, observation_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int32)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.dones = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self._next = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self, obs: Observation, action: int, reward: float, next_obs: Observation, done: bool
    ) -> None:
        i = self._next
        self.observations[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_observations[i] = next_obs
        self.dones[i] = done
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, rng: np.random.Generator, batch_size: int) -> tuple[npt.NDArray[Any], ...]:
        index = rng.integers(0, self.size, size=batch_size)
        return (
            self.observations[index],
            self.actions[index],
            self.rewards[index],
            self.next_observations[index],
            self.dones[index],
        )


@dataclass
class Progress:
    """What a running training reports: steps done and the learning curve so far."""

    step: int
    total_steps: int
    epsilon: float
    episode_returns: list[dict[str, float]]
    losses: list[dict[str, float]]
    log_row: dict[str, Any]

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps


class Cancelled(Exception):
    """The training was asked to stop."""


@dataclass
class TrainingResult:
    model: keras.Model
    episode_returns: list[dict[str, float]] = field(default_factory=list)
    losses: list[dict[str, float]] = field(default_factory=list)
    log_rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def epsilon_at(step: int, hp: HyperParameters) -> float:
    """Linear from `epsilon_start` to `epsilon_end` over `epsilon_decay_fraction` of the steps."""
    decay_steps = max(1, int(hp.steps * hp.epsilon_decay_fraction))
    fraction = min(1.0, step / decay_steps)
    return hp.epsilon_start + fraction * (hp.epsilon_end - hp.epsilon_start)


class Trainer:
    def __init__(
        self,
        env: EnvFlex,
        architecture: ModelArchitecture,
        hyperparameters: HyperParameters,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        report_every: int | None = None,
    ) -> None:
        configure_tensorflow()
        hp = hyperparameters
        keras.utils.set_random_seed(hp.seed)
        self.env = env
        self.hp = hp
        self.rng = np.random.default_rng(hp.seed)
        self.on_progress = on_progress
        self.report_every = report_every or max(50, hp.steps // 100)
        observation_size = int(env.observation_space.shape[0])  # type: ignore[index]
        self.action_count = int(env.action_space.n)  # type: ignore[attr-defined]
        builder = CustomDQNModel(architecture)
        self.online = builder.build(observation_size, self.action_count)
        self.target = builder.build(observation_size, self.action_count, name="target_network")
        self.target.set_weights(self.online.get_weights())
        self.optimizer = keras.optimizers.Adam(
            learning_rate=hp.learning_rate, global_clipnorm=hp.gradient_clip_norm
        )
        self.optimizer.build(self.online.trainable_variables)
        self.huber = keras.losses.Huber()
        self.buffer = ReplayBuffer(hp.replay_size, observation_size)
        self._train_step = self._make_train_step()
        self._greedy = tf.function(
            lambda obs: tf.argmax(self.online(obs, training=False), axis=1),
            reduce_retracing=True,
        )
        self._numpy_q: NumpyQ | None = None
        if architecture.activation in NUMPY_ACTIVATIONS:
            variables = self.online.trainable_variables
            self._numpy_q = NumpyQ(architecture, [v.path for v in variables])
            self._numpy_q.load([np.asarray(v.numpy()) for v in variables])

    def _make_train_step(self) -> Callable[..., tuple[tf.Tensor, list[tf.Tensor]]]:
        online, target, optimizer, huber = self.online, self.target, self.optimizer, self.huber
        gamma, double, actions_n = self.hp.gamma, self.hp.double_dqn, self.action_count

        @tf.function(reduce_retracing=True)  # type: ignore[untyped-decorator]
        def train_step(
            obs: tf.Tensor,
            actions: tf.Tensor,
            rewards: tf.Tensor,
            next_obs: tf.Tensor,
            dones: tf.Tensor,
        ) -> tuple[tf.Tensor, list[tf.Tensor]]:
            next_target = target(next_obs, training=False)
            if double:
                chosen = tf.argmax(online(next_obs, training=False), axis=1)
                next_value = tf.gather(next_target, chosen, axis=1, batch_dims=1)
            else:
                next_value = tf.reduce_max(next_target, axis=1)
            targets = tf.stop_gradient(rewards + gamma * (1.0 - dones) * next_value)
            with tf.GradientTape() as tape:
                q_values = online(obs, training=True)
                taken = tf.reduce_sum(q_values * tf.one_hot(actions, actions_n), axis=1)
                loss = huber(targets, taken)
            variables = online.trainable_variables
            gradients = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            # the updated weights, for acting in NumPy without another TensorFlow call
            return loss, [tf.identity(v.value) for v in variables]

        return train_step  # type: ignore[no-any-return]

    def act(self, obs: Observation) -> int:
        """The greedy action for one observation."""
        if self._numpy_q is not None:
            return int(np.argmax(self._numpy_q(obs)))
        return int(self._greedy(obs[None, :]).numpy()[0])

    def train(self) -> TrainingResult:
        hp, env, rng = self.hp, self.env, self.rng
        result = TrainingResult(self.online)
        started = time.perf_counter()
        obs, _ = env.reset(seed=hp.seed)
        episode, episode_return, losses = 0, 0.0, []
        epsilon = hp.epsilon_start
        for step in range(1, hp.steps + 1):
            epsilon = epsilon_at(step, hp)
            if rng.random() < epsilon:
                action = int(rng.integers(self.action_count))
            else:
                action = self.act(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            self.buffer.add(obs, action, reward * hp.reward_scale, next_obs, terminated)
            episode_return += reward
            obs = next_obs
            if terminated or truncated:
                episode += 1
                result.episode_returns.append(
                    {"episode": episode, "step": step, "return": episode_return}
                )
                episode_return = 0.0
                obs, _ = env.reset()
            if (
                step > hp.learning_starts
                and step % hp.train_every == 0
                and len(self.buffer) >= hp.batch_size
            ):
                batch = self.buffer.sample(rng, hp.batch_size)
                loss, weights = self._train_step(*(tf.convert_to_tensor(a) for a in batch))
                losses.append(loss)
                if self._numpy_q is not None:
                    self._numpy_q.load([w.numpy() for w in weights])
            if step % hp.target_update_period == 0:
                self.target.set_weights(self.online.get_weights())
            if step % self.report_every == 0 or step == hp.steps:
                mean_loss = float(np.mean([float(loss) for loss in losses])) if losses else None
                losses = []
                if mean_loss is not None:
                    result.losses.append({"step": step, "loss": mean_loss})
                row = {
                    "step": step,
                    "episodes": episode,
                    "epsilon": round(epsilon, 6),
                    "loss": mean_loss,
                    "last_episode_return": (
                        result.episode_returns[-1]["return"] if result.episode_returns else None
                    ),
                    "elapsed_s": round(time.perf_counter() - started, 3),
                }
                result.log_rows.append(row)
                if self.on_progress is not None:
                    self.on_progress(
                        Progress(
                            step, hp.steps, epsilon, result.episode_returns, result.losses, row
                        )
                    )
        result.seconds = time.perf_counter() - started
        return result

    def greedy_positions(self, env: EnvFlex) -> npt.NDArray[np.float64]:
        """Play `env` once from its first decision step greedily; the positions held."""
        obs, _ = env.reset()
        positions = []
        while True:
            obs, _, terminated, truncated, _ = env.step(self.act(obs))
            positions.append(env.position)
            if terminated or truncated:
                return np.asarray(positions, dtype=np.float64)
