"""A small, deterministic trading day as ingest events: 1-minute bars and round trips.

Used by the browser tests (pushed through the exporter or raw HTTP) and handy for a
local dashboard: `python -m tests.frontend.demo_data URL API_KEY`.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any

import httpx

SYMBOL = "MESZ3"
START = dt.datetime(2023, 12, 15, 14, 30, tzinfo=dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def bars(count: int = 700, minutes: int = 5, seed: int = 7) -> list[dict[str, Any]]:
    """`count` bars of `minutes` of a random walk around 4700 on a 0.25 tick (enough
    5-minute history before the trades for the regime classifiers to tag them)."""
    rng = random.Random(seed)
    price = 4700.0
    rows = []
    for i in range(count):
        open_ = price
        drift = 0.6 if (i // 150) % 2 == 0 else -0.6  # trending stretches, so trends show
        moves = [round((rng.gauss(0, 1.5) + drift) * 4) / 4 for _ in range(4)]
        path = [open_ + sum(moves[: k + 1]) for k in range(4)]
        close = path[-1]
        rows.append(
            {
                "type": "bar", "symbol": SYMBOL, "timeframe": f"{minutes}m",
                "ts": iso(START + dt.timedelta(minutes=i * minutes)),
                "open": open_, "high": max([open_, *path]), "low": min([open_, *path]),
                "close": close, "volume": rng.randint(200, 2000),
            }
        )  # fmt: skip
        price = close
    return rows


def round_trips(
    bar_rows: list[dict[str, Any]],
    count: int = 12,
    prefix: str = "x",
    seed: int = 3,
    slippage: float = 0.0,
    delay_s: int = 0,
) -> list[dict[str, Any]]:
    """`count` flat-to-flat trades at bar closes, each scaling in (3 fills), in the last
    third of the bars so the regime classifiers have history before every entry."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    first = len(bar_rows) * 2 // 3
    step = max((len(bar_rows) - first) // (count + 1), 4)
    for n in range(count):
        entry_bar = bar_rows[first + n * step + 1]
        exit_bar = bar_rows[first + n * step + step - 1]
        side, back = ("buy", "sell") if n % 2 == 0 else ("sell", "buy")
        order = f"{prefix}-o{n}"
        events.append(
            {
                "type": "order", "id": f"{order}:filled", "order_id": order,
                "ts": entry_bar["ts"], "symbol": SYMBOL, "side": side, "order_type": "market",
                "qty": 2, "status": "filled",
            }
        )  # fmt: skip
        worse = slippage if side == "buy" else -slippage  # paid on entry, given up on exit
        entry_ts = _later(entry_bar["ts"], delay_s)
        events.append(_fill(f"{prefix}-{n}-a", entry_ts, side, 1, entry_bar["close"] + worse, order))
        scale_ts = _later(entry_bar["ts"], 120 + delay_s)
        scale_price = entry_bar["close"] + rng.choice([-0.5, 0.25, 0.5]) + worse
        events.append(_fill(f"{prefix}-{n}-b", scale_ts, side, 1, scale_price, order))
        exit_ts = _later(exit_bar["ts"], delay_s)
        events.append(_fill(f"{prefix}-{n}-c", exit_ts, back, 2, exit_bar["close"] - worse, None))
    return events


def _later(ts: str, seconds: int) -> str:
    return iso(dt.datetime.fromisoformat(ts) + dt.timedelta(seconds=seconds))


def _fill(
    exec_id: str, ts: str, side: str, qty: float, price: float, order_id: str | None
) -> dict[str, Any]:
    return {
        "type": "execution", "id": exec_id, "order_id": order_id, "ts": ts, "symbol": SYMBOL,
        "side": side, "qty": qty, "price": price, "commission": 0.74,
    }  # fmt: skip


def instrument() -> dict[str, Any]:
    return {"type": "instrument", "symbol": SYMBOL, "multiplier": 5, "tick_size": 0.25}


def run_ref(key: str = "demo-live", mode: str = "live", strategy: str = "ORB") -> dict[str, Any]:
    return {"key": key, "strategy": strategy, "mode": mode, "initial_capital": 25000}


def main(argv: list[str]) -> None:
    url, key = argv[0], argv[1]
    bar_rows = bars()
    for mode, prefix in (("backtest", "bt"), ("live", "lv")):
        events = [instrument(), *bar_rows, *round_trips(bar_rows, prefix=prefix)]
        events.append({"type": "run_end", "ts": iso(START + dt.timedelta(minutes=5 * len(bar_rows)))})
        body = {"source": "demo", "run": run_ref(f"demo-{mode}", mode), "events": events}
        response = httpx.post(
            f"{url}/api/ingest", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        response.raise_for_status()


if __name__ == "__main__":
    main(sys.argv[1:])
