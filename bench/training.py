"""Training node speed: environment steps per second and DQN training steps per second.

    .venv/bin/python bench/training.py [--bars 100000] [--env-steps 200000] [--train-steps 2000]

- env: `EnvFlex.step` over `--bars` synthetic 1-minute bars (window 16; features
  returns, range, volume, position), random actions drawn beforehand. Baseline,
  same run: a pure-Python loop over the same bars that builds the same window
  observation and computes the same reward per step (what an env without
  precomputed features does). Goal: at least 50,000 env steps/s.
- train: `Trainer.train` (env step, epsilon-greedy action, replay insert, one
  `tf.function` gradient step on a batch of 64 per env step, target sync) with a
  64-64 dueling network, on one TensorFlow thread. Baseline, same run: the same
  gradient step run eagerly (no `tf.function`), per step.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.training_node.env import EnvFlex, MarketArrays  # noqa: E402
from services.training_node.settings import (  # noqa: E402
    EnvironmentSettings,
    HyperParameters,
    ModelArchitecture,
)

WINDOW = 16


def synthetic(bars: int, seed: int) -> MarketArrays:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(0.0002 * rng.standard_normal(bars)))
    spread = np.abs(rng.standard_normal(bars)) * 0.05
    return MarketArrays(
        close=close,
        high=close + spread,
        low=close - spread,
        volume=rng.integers(50, 500, bars).astype(np.float64),
    )


def env_settings() -> EnvironmentSettings:
    return EnvironmentSettings(
        window=WINDOW, features=["returns", "range", "volume", "position"], cost_bps=1.0
    )


def time_env(arrays: MarketArrays, actions: np.ndarray) -> float:
    env = EnvFlex(arrays, env_settings())
    env.reset(seed=0)
    step = env.step
    started = time.perf_counter()
    for action in actions.tolist():
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - started)


def time_python_loop(arrays: MarketArrays, actions: np.ndarray) -> float:
    """The same observation and reward, computed per step in plain Python."""
    close = arrays.close.tolist()
    high = arrays.high.tolist()
    low = arrays.low.tolist()
    assert arrays.volume is not None
    volume = arrays.volume.tolist()
    positions = (0.0, 1.0, -1.0)
    cost = 1.0 / 10_000
    t, position, last = WINDOW - 1, 0.0, len(close) - 2
    started = time.perf_counter()
    for action in actions.tolist():
        target = positions[action]
        reward = target * (close[t + 1] / close[t] - 1.0) - cost * abs(target - position)
        position = target
        t += 1
        if t > last:
            t, position = WINDOW - 1, 0.0
        observation = []
        for i in range(t - WINDOW + 1, t + 1):
            mean_volume = sum(volume[max(0, i - WINDOW + 1) : i + 1]) / min(WINDOW, i + 1)
            observation.append(close[i] / close[i - 1] - 1.0 if i > 0 else 0.0)
            observation.append((high[i] - low[i]) / close[i])
            observation.append(volume[i] / mean_volume - 1.0)
        observation.append(position)
        del reward
    return len(actions) / (time.perf_counter() - started)


def time_training(arrays: MarketArrays, steps: int) -> tuple[float, float]:
    """(Trainer steps/s with tf.function, eager gradient steps/s on the same batches)."""
    import tensorflow as tf

    from services.training_node.trainer import Trainer

    hp = HyperParameters(
        steps=steps, learning_starts=64, batch_size=64, replay_size=10_000, epsilon_end=0.1
    )
    env = EnvFlex(arrays, env_settings().model_copy(update={"episode_bars": 500}))
    trainer = Trainer(env, ModelArchitecture(hidden_layers=[64, 64], dueling=True), hp)
    warm = Trainer(
        env,
        ModelArchitecture(hidden_layers=[64, 64], dueling=True),
        hp.model_copy(update={"steps": 200}),
    )
    warm.train()  # traces the tf.functions of this process once
    started = time.perf_counter()
    trainer.train()
    compiled = steps / (time.perf_counter() - started)

    eager_step = trainer._train_step.python_function  # type: ignore[attr-defined]  # not compiled
    batches = [trainer.buffer.sample(trainer.rng, 64) for _ in range(max(50, steps // 20))]
    started = time.perf_counter()
    for batch in batches:
        eager_step(*(tf.convert_to_tensor(a) for a in batch))
    eager = len(batches) / (time.perf_counter() - started)
    return compiled, eager


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--env-steps", type=int, default=200_000)
    parser.add_argument("--train-steps", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; still trains")
    args = parser.parse_args()
    if args.smoke:
        args.bars, args.env_steps, args.train_steps, args.repeats = 2_000, 2_000, 100, 1
    arrays = synthetic(args.bars, seed=7)
    actions = np.random.default_rng(1).integers(0, 3, args.env_steps)

    env_rates = [time_env(arrays, actions) for _ in range(args.repeats)]
    baseline_steps = actions[: max(1, args.env_steps // 10)]
    python_rates = [time_python_loop(arrays, baseline_steps) for _ in range(args.repeats)]
    env_rate, python_rate = statistics.median(env_rates), statistics.median(python_rates)
    print(f"bars {args.bars:,}, window {WINDOW}, 4 features; median of {args.repeats}")
    print(f"env     EnvFlex.step            {env_rate:12,.0f} steps/s")
    print(f"        pure-Python loop        {python_rate:12,.0f} steps/s")
    print(
        f"        ratio                   {env_rate / python_rate:12.1f} x"
        f"   (goal >= 50,000 steps/s: {'met' if env_rate >= 50_000 else 'NOT met'})"
    )

    compiled, eager = time_training(arrays, args.train_steps)
    print(
        f"train   Trainer (tf.function)   {compiled:12,.0f} steps/s"
        "  (1 env step + 1 gradient step of 64)"
    )
    print(f"        eager gradient step     {eager:12,.0f} steps/s  (gradient step only)")
    print(f"        ratio                   {compiled / eager:12.1f} x")
    if not math.isfinite(compiled):
        raise SystemExit("training produced no timing")


if __name__ == "__main__":
    main()
