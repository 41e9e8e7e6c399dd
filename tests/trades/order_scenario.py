"""A hand-checked order history (the values are worked out in the comments).

ES (multiplier 50, tick 0.25), 1-minute bars from 14:00:
- e1: buy limit 2 @ 4700.00 placed 14:01:10, modified to 4700.25 at 14:01:40, filled
  1 @ 4700.00 at 14:02:05 (x1) and 1 @ 4700.25 at 14:02:30 (x2), 1.25 commission each.
- s1: sell stop 2, child of e1, placed 14:02:30 at 4699.00, moved to 4697.00 at 14:03:30
  (looser), to 4702.00 at 14:06:00 (tighter), filled 2 @ 4701.75 at 14:07:10 (x3, 2.50).
- t1: sell limit 2 @ 4710.00, child of e1, placed 14:02:30, cancelled at 14:07:10.
MES (multiplier 5, tick 0.25), fills only (no orders): a reversal for the explanation:
  buy 1 @ 100 (0.5), buy 2 @ 101 (1.0), sell 1 @ 103 (0.37), sell 3 @ 102 (1.00: 2 close
  the long, 1 opens a short), buy 1 @ 99 (0.33).
"""

from __future__ import annotations

from typing import Any

DAY = "2023-12-15T14:{:02d}:{:02d}Z"


def ts(minute: int, second: int = 0) -> str:
    return DAY.format(minute, second)


# (minute, open, high, low, close)
ES_BARS = [
    (0, 4699.00, 4700.50, 4698.50, 4700.00),
    (1, 4700.00, 4700.75, 4699.50, 4700.50),
    (2, 4700.50, 4702.00, 4700.00, 4701.50),
    (3, 4701.50, 4704.00, 4701.00, 4703.75),
    (4, 4703.75, 4704.00, 4698.00, 4699.50),
    (5, 4699.50, 4703.00, 4699.50, 4702.75),
    (6, 4702.75, 4706.00, 4701.00, 4702.00),
    (7, 4702.00, 4702.50, 4701.00, 4701.50),
    (8, 4701.50, 4702.00, 4700.75, 4701.00),
]


def _order(event_id: str, order_id: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"type": "order", "id": event_id, "order_id": order_id, "ts": at, "symbol": "ES",
            **fields}  # fmt: skip


def _fill(exec_id: str, at: str, side: str, qty: float, price: float, commission: float,
          symbol: str = "ES", order_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    event = {"type": "execution", "id": exec_id, "ts": at, "symbol": symbol, "side": side,
             "qty": qty, "price": price, "commission": commission}  # fmt: skip
    if order_id is not None:
        event["order_id"] = order_id
    return event


def events() -> list[dict[str, Any]]:
    buy = {"side": "buy", "order_type": "limit", "qty": 2}
    stop = {"side": "sell", "order_type": "stop", "qty": 2, "parent_id": "e1"}
    target = {"side": "sell", "order_type": "limit", "qty": 2, "parent_id": "e1",
              "limit_price": 4710.0}  # fmt: skip
    return [
        {"type": "instrument", "symbol": "ES", "multiplier": 50, "tick_size": 0.25},
        {"type": "instrument", "symbol": "MES", "multiplier": 5, "tick_size": 0.25},
        *[{"type": "bar", "symbol": "ES", "timeframe": "1m", "ts": ts(m), "open": o, "high": h,
           "low": lo, "close": c} for m, o, h, lo, c in ES_BARS],  # fmt: skip
        _order("e1:new", "e1", ts(1, 10), status="working", limit_price=4700.0, **buy),
        _order("e1:mod", "e1", ts(1, 40), status="working", limit_price=4700.25, **buy),
        _fill("x1", ts(2, 5), "buy", 1, 4700.0, 1.25, order_id="e1"),
        _order("e1:part", "e1", ts(2, 5), status="partially_filled", **buy),
        _fill("x2", ts(2, 30), "buy", 1, 4700.25, 1.25, order_id="e1"),
        _order("e1:done", "e1", ts(2, 30), status="filled", **buy),
        _order("s1:new", "s1", ts(2, 30), status="working", stop_price=4699.0, **stop),
        _order("t1:new", "t1", ts(2, 30), status="working", **target),
        _order("s1:mv1", "s1", ts(3, 30), status="working", stop_price=4697.0, **stop),
        _order("s1:mv2", "s1", ts(6, 0), status="working", stop_price=4702.0, **stop),
        _fill("x3", ts(7, 10), "sell", 2, 4701.75, 2.5, order_id="s1"),
        _order("s1:done", "s1", ts(7, 10), status="filled", **stop),
        _order("t1:cxl", "t1", ts(7, 10), status="cancelled", **target),
        _fill("m1", ts(10), "buy", 1, 100.0, 0.5, symbol="MES"),
        _fill("m2", ts(11), "buy", 2, 101.0, 1.0, symbol="MES"),
        _fill("m3", ts(12), "sell", 1, 103.0, 0.37, symbol="MES"),
        _fill("m4", ts(13), "sell", 3, 102.0, 1.0, symbol="MES"),
        _fill("m5", ts(14), "buy", 1, 99.0, 0.33, symbol="MES"),
    ]
