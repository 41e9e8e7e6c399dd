"""`EnvFlex`: a gymnasium environment over a run's bars, vectorised with NumPy.

Time runs over bar closes. At decision step `t` the agent sees the features of
bars `t - window + 1 .. t` (all closed), picks an action, and holds the
resulting position from close `t` to close `t + 1`:

    reward_t = position_t * (close[t+1] / close[t] - 1) - cost * |position_t - position_{t-1}|

that is, the change in equity of an account that holds `position_t` times its
initial capital (not compounded), net of costs (`cost = cost_bps / 10_000` per
unit of position change). With the `skip_take` action set, action 1 takes the
strategy's own position on that bar (its sign) and action 0 stays flat.

Every feature column is computed once, for all bars, when the environment is
built; stepping copies one precomputed row and does O(1) arithmetic. Scales
(the standard deviation of returns, the mean bar range) come from the training
part only, so the test part leaks nothing into the features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from services.training_node.settings import ACTION_POSITIONS, EnvironmentSettings, RunData

FloatArray = npt.NDArray[np.float64]
Observation = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class MarketArrays:
    """A run's data as arrays, one value per bar."""

    close: FloatArray
    high: FloatArray
    low: FloatArray
    volume: FloatArray | None = None
    trend: FloatArray | None = None  # regime code scaled to [-1, 1], 0 where unknown
    volatility: FloatArray | None = None
    signal: FloatArray | None = None  # sign of the strategy's position over each bar

    def __post_init__(self) -> None:
        count = len(self.close)
        for name in ("high", "low", "volume", "trend", "volatility", "signal"):
            column = getattr(self, name)
            if column is not None and len(column) != count:
                raise ValueError(f"{name} has {len(column)} values, close has {count}")

    def __len__(self) -> int:
        return len(self.close)

    @property
    def next_return(self) -> FloatArray:
        """`close[t+1] / close[t] - 1`, and 0 for the last bar."""
        out = np.zeros(len(self.close))
        out[:-1] = self.close[1:] / self.close[:-1] - 1.0
        return out

    @classmethod
    def from_data(cls, data: RunData) -> MarketArrays:
        bars = data.bars
        volume = None if bars.volume is None else np.asarray(bars.volume, dtype=np.float64)
        trend = volatility = None
        if data.regime is not None:
            trend = _scaled_codes(data.regime.trend, len(data.regime.trend_labels))
            volatility = _scaled_codes(data.regime.volatility, len(data.regime.volatility_labels))
        signal = None
        if data.strategy_position is not None:
            signal = np.sign(np.asarray(data.strategy_position, dtype=np.float64))
        return cls(
            close=np.asarray(bars.close, dtype=np.float64),
            high=np.asarray(bars.high, dtype=np.float64),
            low=np.asarray(bars.low, dtype=np.float64),
            volume=volume,
            trend=trend,
            volatility=volatility,
            signal=signal,
        )

    @classmethod
    def from_close(cls, close: npt.ArrayLike, **columns: FloatArray | None) -> MarketArrays:
        """Bars whose high and low equal the close (synthetic series, tests)."""
        prices = np.asarray(close, dtype=np.float64)
        return cls(close=prices, high=prices, low=prices, **columns)


def _scaled_codes(codes: list[int], labels: int) -> FloatArray:
    values = np.asarray(codes, dtype=np.float64)
    scaled = values / max(labels - 1, 1) * 2.0 - 1.0
    return np.where(values < 0, 0.0, scaled)


def feature_matrix(
    arrays: MarketArrays, settings: EnvironmentSettings, fit_stop: int
) -> FloatArray:
    """One column per static feature (all but `position`), one row per bar.

    Scales come from bars `[0, fit_stop)` only.
    """
    count = len(arrays)
    close = arrays.close
    returns = np.zeros(count)
    returns[1:] = close[1:] / close[:-1] - 1.0
    columns: list[FloatArray] = []
    for name in settings.features:
        if name == "returns":
            columns.append(returns / _scale(returns[1:fit_stop]))
        elif name == "range":
            bar_range = (arrays.high - arrays.low) / close
            mean = float(np.mean(bar_range[:fit_stop])) if fit_stop else 0.0
            columns.append(bar_range / mean - 1.0 if mean > 0 else bar_range)
        elif name == "volume":
            columns.append(_relative_volume(arrays.volume, settings.window, count))
        elif name == "regime":
            if arrays.trend is None or arrays.volatility is None:
                raise ValueError("feature 'regime' needs regime codes")
            columns.extend([arrays.trend, arrays.volatility])
        elif name == "signal":
            if arrays.signal is None:
                raise ValueError("feature 'signal' needs the strategy's positions")
            columns.append(arrays.signal)
    if not columns:
        return np.zeros((count, 0))
    return np.column_stack(columns)


def _scale(values: FloatArray) -> float:
    std = float(np.std(values)) if len(values) else 0.0
    return std if std > 0 else 1.0


def _relative_volume(volume: FloatArray | None, window: int, count: int) -> FloatArray:
    """Volume over its trailing mean (this bar and the `window - 1` before), minus 1."""
    if volume is None:
        return np.zeros(count)
    cumulative = np.concatenate([[0.0], np.cumsum(volume)])
    ends = np.arange(1, count + 1)
    starts = np.maximum(ends - window, 0)
    mean = (cumulative[ends] - cumulative[starts]) / (ends - starts)
    relative: FloatArray = np.divide(volume, mean, out=np.ones(count), where=mean > 0)
    return relative - 1.0


def windowed(features: FloatArray, window: int, with_position: bool) -> Observation:
    """Row `t`: features of bars `t - window + 1 .. t` flattened (zeros before bar 0),
    plus a trailing slot for the position when `with_position`."""
    count, width = features.shape
    padded = np.zeros((count + window - 1, width))
    padded[window - 1 :] = features
    # (count, width, window): row t holds padded[t : t + window]
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    rows = view.transpose(0, 2, 1).reshape(count, window * width)
    extra = 1 if with_position else 0
    out = np.zeros((count, window * width + extra), dtype=np.float32)
    out[:, : window * width] = rows
    return out


class EnvFlex(gym.Env[Observation, np.int64]):
    """Trade one instrument bar by bar over `[start, stop)` of a run's bars.

    Decisions are taken at bars `max(start, window - 1) .. stop - 2` (each needs
    the next close). An episode runs over all of them, or over `episode_bars`
    consecutive ones from a random start (drawn from the env's seeded RNG).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        arrays: MarketArrays,
        settings: EnvironmentSettings,
        start: int = 0,
        stop: int | None = None,
        fit_stop: int | None = None,
    ) -> None:
        super().__init__()
        stop = len(arrays) if stop is None else stop
        self.settings = settings
        self.first = max(start, settings.window - 1)
        self.last = stop - 2
        if self.last < self.first:
            raise ValueError(
                f"bars [{start}, {stop}) leave no decision step with window={settings.window}"
            )
        self.positions = np.asarray(ACTION_POSITIONS[settings.action_set], dtype=np.float64)
        self.take_signal = settings.action_set == "skip_take"
        if self.take_signal and arrays.signal is None:
            raise ValueError("action set 'skip_take' needs the strategy's positions")
        self.signal = arrays.signal if arrays.signal is not None else np.zeros(len(arrays))
        self.cost = settings.cost_bps / 10_000.0
        self.next_return = arrays.next_return
        self.with_position = "position" in settings.features
        features = feature_matrix(arrays, settings, stop if fit_stop is None else fit_stop)
        self.observations = windowed(features, settings.window, self.with_position)
        dim = self.observations.shape[1]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(self.positions))
        self.t = self.first
        self.end = self.last
        self.position = 0.0
        self.equity = 1.0

    @property
    def decision_steps(self) -> int:
        return self.last - self.first + 1

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        super().reset(seed=seed, options=options)
        length = self.settings.episode_bars
        if length is None or length >= self.decision_steps:
            self.t, self.end = self.first, self.last
        else:
            self.t = int(self.np_random.integers(self.first, self.last - length + 2))
            self.end = self.t + length - 1
        self.position = 0.0
        self.equity = 1.0
        return self._observe(), {}

    def step(self, action: np.int64 | int) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        t = self.t
        target = float(self.positions[action])
        if self.take_signal:
            target *= float(self.signal[t])
        reward = target * float(self.next_return[t]) - self.cost * abs(target - self.position)
        self.position = target
        self.equity += reward
        self.t = t + 1
        terminated = t >= self.last
        truncated = not terminated and t >= self.end
        return self._observe(), reward, terminated, truncated, {}

    def _observe(self) -> Observation:
        row: Observation = self.observations[self.t].copy()
        if self.with_position:
            row[-1] = self.position
        return row

    def target_positions(self, actions: npt.ArrayLike, t0: int) -> FloatArray:
        """The positions a sequence of actions from decision step `t0` on holds."""
        chosen = self.positions[np.asarray(actions, dtype=np.int64)]
        if self.take_signal:
            chosen = chosen * self.signal[t0 : t0 + len(chosen)]
        return chosen
