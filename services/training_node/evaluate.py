"""Scoring positions on the test part: the agent against buy-and-hold, flat and the strategy.

Every policy is scored with the environment's own reward: the positions held
from each close to the next, the same costs, equity starting at 1 and not
compounded. Pure NumPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def position_rewards(
    positions: npt.ArrayLike, next_return: npt.ArrayLike, cost: float, start_position: float = 0.0
) -> FloatArray:
    """`positions[i] * next_return[i] - cost * |positions[i] - positions[i-1]|`, per step."""
    held = np.asarray(positions, dtype=np.float64)
    moves = np.abs(np.diff(held, prepend=start_position))
    return held * np.asarray(next_return, dtype=np.float64) - cost * moves


def total_return(rewards: FloatArray) -> float:
    return float(np.sum(rewards))


def sharpe_ratio(rewards: FloatArray, periods_per_year: float) -> float | None:
    """Mean over standard deviation (ddof 1) of the per-step rewards, annualised;
    None with fewer than two steps or no variation."""
    if len(rewards) < 2:
        return None
    std = float(np.std(rewards, ddof=1))
    if std == 0 or not math.isfinite(std):
        return None
    return float(np.mean(rewards) / std * math.sqrt(periods_per_year))


def max_drawdown(rewards: FloatArray) -> float:
    """Largest fall of equity (1 + cumulative reward) from a running peak, as a fraction <= 0;
    the starting equity counts as a peak."""
    equity = 1.0 + np.concatenate([[0.0], np.cumsum(rewards)])
    peak = np.maximum.accumulate(equity)
    return float(np.min((equity - peak) / peak))


def summary(rewards: FloatArray, positions: FloatArray, periods_per_year: float) -> dict[str, Any]:
    return {
        "total_return": total_return(rewards),
        "sharpe": sharpe_ratio(rewards, periods_per_year),
        "max_drawdown": max_drawdown(rewards),
        "position_changes": int(np.count_nonzero(np.diff(positions, prepend=0.0))),
        "exposure": float(np.mean(np.abs(positions))) if len(positions) else 0.0,
    }


def compare(
    agent_positions: FloatArray,
    next_return: FloatArray,
    cost: float,
    periods_per_year: float,
    strategy_positions: FloatArray | None,
) -> dict[str, dict[str, Any] | None]:
    """Each policy's summary over the same steps: `agent`, `buy_and_hold`, `flat`, `strategy`
    (None when the strategy's positions are unknown)."""
    steps = len(agent_positions)
    policies: dict[str, FloatArray | None] = {
        "agent": agent_positions,
        "buy_and_hold": np.ones(steps),
        "flat": np.zeros(steps),
        "strategy": strategy_positions,
    }
    out: dict[str, dict[str, Any] | None] = {}
    for name, positions in policies.items():
        if positions is None:
            out[name] = None
            continue
        rewards = position_rewards(positions, next_return, cost)
        out[name] = summary(rewards, positions, periods_per_year)
    return out
