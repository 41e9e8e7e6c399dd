"""The wire contract of `POST /train`: architecture, hyper-parameters, environment and data.

Pure pydantic, no TensorFlow: the backend imports these models too, so that a
request it accepts is one the node accepts (one definition, one set of limits).
Every bound below is in the OpenAPI schema; an invalid value gets a 422 that
names the field (`hyperparameters.gamma: ...`).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Activation = Literal["relu", "tanh", "elu", "gelu", "selu", "swish"]
ActionSet = Literal["flat_long_short", "flat_long", "skip_take"]
Feature = Literal["returns", "range", "volume", "regime", "signal", "position"]

ACTION_POSITIONS: dict[str, tuple[float, ...]] = {
    "flat_long_short": (0.0, 1.0, -1.0),
    "flat_long": (0.0, 1.0),
    # skip/take: 0 stays flat, 1 holds what the strategy held on that bar
    "skip_take": (0.0, 1.0),
}
"""Action index → target position (a fraction of capital); for skip/take, a multiplier
of the strategy's own position."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelArchitecture(_Strict):
    """The Q-network: dense hidden layers, their activation, and an optional dueling head."""

    hidden_layers: list[int] = Field(default=[64, 64], min_length=1, max_length=6)
    activation: Activation = "relu"
    dueling: bool = True

    @field_validator("hidden_layers")
    @classmethod
    def _sizes(cls, value: list[int]) -> list[int]:
        for size in value:
            if not 1 <= size <= 1024:
                raise ValueError(f"each layer needs 1..1024 units, got {size}")
        return value


class HyperParameters(_Strict):
    """DQN training knobs. `steps` counts environment steps (one transition each)."""

    steps: int = Field(default=20_000, ge=10, le=5_000_000)
    gamma: float = Field(default=0.99, ge=0.0, le=1.0)
    learning_rate: float = Field(default=1e-3, gt=0.0, le=1.0)
    batch_size: int = Field(default=64, ge=1, le=4096)
    replay_size: int = Field(default=50_000, ge=10, le=5_000_000)
    learning_starts: int = Field(default=500, ge=0)
    train_every: int = Field(default=1, ge=1, le=1000)
    target_update_period: int = Field(default=500, ge=1)
    epsilon_start: float = Field(default=1.0, ge=0.0, le=1.0)
    epsilon_end: float = Field(default=0.05, ge=0.0, le=1.0)
    epsilon_decay_fraction: float = Field(
        default=0.5, gt=0.0, le=1.0, description="fraction of `steps` over which epsilon falls"
    )
    double_dqn: bool = True
    gradient_clip_norm: float = Field(default=10.0, gt=0.0)
    reward_scale: float = Field(
        default=100.0, gt=0.0, description="rewards are multiplied by this for learning only"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.epsilon_end > self.epsilon_start:
            raise ValueError(
                f"epsilon_end must be <= epsilon_start, got epsilon_end={self.epsilon_end} "
                f"epsilon_start={self.epsilon_start}"
            )
        if self.batch_size > self.replay_size:
            raise ValueError(
                f"batch_size must be <= replay_size, got batch_size={self.batch_size} "
                f"replay_size={self.replay_size}"
            )
        return self


class EnvironmentSettings(_Strict):
    """How `EnvFlex` turns the bars into observations, actions and rewards."""

    window: int = Field(default=16, ge=1, le=512, description="bars in each observation")
    features: list[Feature] = Field(default=["returns", "range", "position"], min_length=1)
    action_set: ActionSet = "flat_long_short"
    cost_bps: float = Field(
        default=1.0, ge=0.0, le=1000.0, description="cost per unit of position change, in bps"
    )
    test_fraction: float = Field(
        default=0.3, gt=0.0, lt=1.0, description="the last part of the bars, kept for evaluation"
    )
    episode_bars: int | None = Field(
        default=None, ge=2, description="episode length; None: the whole training part"
    )
    periods_per_year: float = Field(
        default=252.0, gt=0.0, description="bars per year, to annualise the Sharpe ratio"
    )

    @field_validator("features")
    @classmethod
    def _unique(cls, value: list[Feature]) -> list[Feature]:
        if len(set(value)) != len(value):
            raise ValueError(f"each feature at most once, got {value}")
        return value


class BarColumns(_Strict):
    """OHLCV bars as columns, oldest first; `ts` is the bar's open time (UTC epoch ns)."""

    ts: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float] | None = None

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        count = len(self.ts)
        for name in ("open", "high", "low", "close", "volume"):
            column = getattr(self, name)
            if column is not None and len(column) != count:
                raise ValueError(f"{name} has {len(column)} values, ts has {count}")
        if any(b <= a for a, b in zip(self.ts, self.ts[1:], strict=False)):
            raise ValueError("ts must increase strictly")
        if any(price <= 0 for price in self.close):
            raise ValueError("close must be > 0")
        return self


class RegimeColumns(_Strict):
    """Regime codes per bar, in effect at the bar's open; -1 where unknown."""

    trend: list[int]
    volatility: list[int]
    trend_labels: list[str] = ["down", "range", "up"]
    volatility_labels: list[str] = ["low", "normal", "high"]


class TradeRecord(_Strict):
    """One round trip of the strategy, as the backend rebuilt it."""

    direction: Literal["long", "short"]
    entry_ts: int
    exit_ts: int | None
    qty: float
    entry_price: float
    exit_price: float | None
    net_pnl: float


class FillRecord(_Strict):
    """One execution of the strategy (UTC epoch ns)."""

    ts: int
    side: Literal["buy", "sell"]
    qty: float = Field(gt=0)
    price: float = Field(gt=0)
    commission: float = Field(default=0.0, ge=0)


class RunData(_Strict):
    """A run's data: its bars, and optionally regime tags and what the strategy did."""

    symbol: str = Field(min_length=1, max_length=64)
    timeframe_s: int = Field(gt=0)
    bars: BarColumns
    regime: RegimeColumns | None = None
    strategy_position: list[float] | None = Field(
        default=None, description="the strategy's signed position held over each bar"
    )
    fills: list[FillRecord] = []
    trades: list[TradeRecord] = []
    initial_capital: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        count = len(self.bars.ts)
        if self.regime is not None:
            for name in ("trend", "volatility"):
                if len(getattr(self.regime, name)) != count:
                    raise ValueError(f"regime.{name} needs one value per bar ({count})")
        if self.strategy_position is not None and len(self.strategy_position) != count:
            raise ValueError(
                f"strategy_position needs one value per bar ({count}), "
                f"got {len(self.strategy_position)}"
            )
        return self


# The replay buffer holds two float32 observations per transition; past this it would not
# fit the node's memory (5,000,000 transitions of a 512-bar window of 6 features: ~120 GB).
MAX_REPLAY_BYTES = 2 * 1024**3


def observation_width(environment: EnvironmentSettings) -> int:
    """Numbers in one observation: a column per feature (regime: two) per bar of the window,
    plus the position (backend-independent twin of env.windowed)."""
    per_bar = sum(2 if name == "regime" else 1 for name in environment.features
                  if name != "position")  # fmt: skip
    return environment.window * per_bar + ("position" in environment.features)


class TrainingSettings(_Strict):
    """Everything about a training except the data (what the backend stores per job)."""

    model_architecture: ModelArchitecture = ModelArchitecture()
    hyperparameters: HyperParameters = HyperParameters()
    environment: EnvironmentSettings = EnvironmentSettings()

    @model_validator(mode="after")
    def _replay_fits(self) -> Self:
        size = self.hyperparameters.replay_size
        needed = size * observation_width(self.environment) * 4 * 2
        if needed > MAX_REPLAY_BYTES:
            raise ValueError(
                f"hyperparameters.replay_size: {size} transitions of "
                f"{observation_width(self.environment)} numbers need {needed / 1024**3:.1f} GiB "
                f"of replay memory; at most {MAX_REPLAY_BYTES // 1024**3} GiB (lower replay_size, "
                "environment.window or environment.features)"
            )
        return self


class TrainRequest(TrainingSettings):
    """`POST /train`: a run's data and how to train on it."""

    run_id: int
    data: RunData

    @model_validator(mode="after")
    def _data_fits(self) -> Self:
        env, data = self.environment, self.data
        if "regime" in env.features and data.regime is None:
            raise ValueError("environment.features: 'regime' needs data.regime")
        if "signal" in env.features and data.strategy_position is None:
            raise ValueError("environment.features: 'signal' needs data.strategy_position")
        if env.action_set == "skip_take" and data.strategy_position is None:
            raise ValueError("environment.action_set: 'skip_take' needs data.strategy_position")
        count = len(data.bars.ts)
        train, test = split_sizes(count, env.test_fraction)
        needed = env.window + 2
        if train < needed or test < 2:
            raise ValueError(
                f"data.bars: {count} bars split into {train} for training and {test} for "
                f"testing; training needs at least window + 2 = {needed} and testing 2"
            )
        return self


def split_sizes(count: int, test_fraction: float) -> tuple[int, int]:
    """Bars in the chronological training and test parts."""
    test = int(round(count * test_fraction))
    return count - test, test
