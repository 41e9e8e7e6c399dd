"""One training from request to artifacts: split, train, evaluate honestly, write files.

The bars are split chronologically: the agent trains on the first part and is
scored once, greedily, on the last part it never saw, next to buy-and-hold,
staying flat, and the strategy's own positions, all with the same costs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.training_node.env import EnvFlex, MarketArrays
from services.training_node.evaluate import compare
from services.training_node.schemas import ARTIFACTS
from services.training_node.settings import TrainRequest, split_sizes
from services.training_node.trainer import Progress, Trainer

LOG_COLUMNS = ("step", "episodes", "epsilon", "loss", "last_episode_return", "elapsed_s")


def build_envs(request: TrainRequest) -> tuple[EnvFlex, EnvFlex, int]:
    """The training env over the first part, the test env over the rest, and the split index.

    The test env's first decision is at the close of the last training bar, so
    it holds positions over every test bar; its observations reach back into the
    training bars (the past, not the future). Feature scales come from the
    training part only.
    """
    arrays = MarketArrays.from_data(request.data)
    settings = request.environment
    train_size, _ = split_sizes(len(arrays), settings.test_fraction)
    train = EnvFlex(arrays, settings, 0, train_size, fit_stop=train_size)
    test_settings = settings.model_copy(update={"episode_bars": None})
    test = EnvFlex(arrays, test_settings, train_size - 1, len(arrays), fit_stop=train_size)
    return train, test, train_size


def run_training(
    request: TrainRequest, folder: Path, on_progress: Callable[[Progress], None] | None = None
) -> dict[str, Any]:
    """Train, evaluate and write every artifact into `folder`; returns the report."""
    folder.mkdir(parents=True, exist_ok=True)
    train_env, test_env, split = build_envs(request)
    trainer = Trainer(
        train_env, request.model_architecture, request.hyperparameters, on_progress=on_progress
    )
    result = trainer.train()
    agent = trainer.greedy_positions(test_env)
    steps = slice(test_env.first, test_env.first + len(agent))
    signal = MarketArrays.from_data(request.data).signal
    settings = request.environment
    policies = compare(
        agent,
        test_env.next_return[steps],
        test_env.cost,
        settings.periods_per_year,
        None if signal is None else signal[steps],
    )
    ts = request.data.bars.ts
    report = {
        "run_id": request.run_id,
        "symbol": request.data.symbol,
        "timeframe_s": request.data.timeframe_s,
        "split": {
            "train_bars": split,
            "test_bars": len(ts) - split,
            "test_start_ts": ts[split],
            "test_end_ts": ts[-1],
            "test_steps": len(agent),
        },
        "policies": policies,
        "agent_beats_buy_and_hold": _beats(policies, "buy_and_hold"),
        "strategy_trades_in_test": _trades_in_test(request, ts[split]),
        "training": {
            "steps": request.hyperparameters.steps,
            "episodes": len(result.episode_returns),
            "seconds": round(result.seconds, 3),
            "final_loss": result.losses[-1]["loss"] if result.losses else None,
        },
        "settings": request.model_dump(exclude={"data", "run_id"}),
    }
    result.model.save(folder / ARTIFACTS["model"][0])
    write_log(folder / ARTIFACTS["log"][0], result.log_rows)
    (folder / ARTIFACTS["report"][0]).write_text(json.dumps(report, indent=2))
    plot_learning_curve(folder / ARTIFACTS["plot"][0], result.episode_returns, result.losses)
    return report


def _beats(policies: dict[str, dict[str, Any] | None], other: str) -> bool | None:
    agent, baseline = policies["agent"], policies[other]
    if agent is None or baseline is None:
        return None
    return bool(agent["total_return"] > baseline["total_return"])


def _trades_in_test(request: TrainRequest, test_start_ts: int) -> dict[str, Any]:
    """The strategy's own closed trades that entered in the test part (in money), and its
    fills in the test part."""
    trades = [
        t for t in request.data.trades if t.entry_ts >= test_start_ts and t.exit_ts is not None
    ]
    fills = [f for f in request.data.fills if f.ts >= test_start_ts]
    return {
        "count": len(trades),
        "net_pnl": float(sum(t.net_pnl for t in trades)),
        "fills": len(fills),
        "commission": float(sum(f.commission for f in fills)),
    }


def write_log(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in LOG_COLUMNS})


def plot_learning_curve(
    path: Path, episode_returns: list[dict[str, float]], losses: list[dict[str, float]]
) -> None:
    """Episode returns and loss against training steps, as a PNG (matplotlib's Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    if episode_returns:
        top.plot([e["step"] for e in episode_returns], [e["return"] for e in episode_returns])
    top.set_ylabel("episode return")
    top.grid(alpha=0.3)
    if losses:
        bottom.plot([p["step"] for p in losses], [p["loss"] for p in losses], color="tab:red")
        bottom.set_yscale("log" if min(p["loss"] for p in losses) > 0 else "linear")
    bottom.set_ylabel("loss (Huber)")
    bottom.set_xlabel("step")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def load_report(folder: Path) -> dict[str, Any] | None:
    path = folder / ARTIFACTS["report"][0]
    if not path.exists():
        return None
    report: dict[str, Any] = json.loads(path.read_text())
    return report
