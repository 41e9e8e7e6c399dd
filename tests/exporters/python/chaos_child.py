"""The exporter process of the chaos test: pushes fills `start..count` and prints progress.

    python -m tests.exporters.python.chaos_child URL API_KEY SPOOL START COUNT

Prints `spooled N` after every 1,000 events (all events below N are in the spool)
and `done` once the service acknowledged everything. The fills carry no ids: the
exporter derives them, so a second process that resends a range makes duplicates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from fillbook_exporter import Exporter

BASE_NS = 1_702_650_600_000_000_000
RUN = {"key": "chaos", "strategy": "Chaos", "mode": "backtest", "initial_capital": 25_000}
SYMBOLS = (("MESZ3", 4700.0), ("MNQZ3", 16_000.0), ("M2KZ3", 1900.0), ("MYMZ3", 37_000.0))
CYCLE = ((+1, 0), (+2, 3), (-1, 5), (+1, -2), (-3, 4))  # (signed qty, price offset in ticks)


def fills(start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Fill n of a deterministic stream: per symbol, positions 1, 3, 2, 3, 0 again and again."""
    for n in range(start, stop):
        symbol, base = SYMBOLS[n % len(SYMBOLS)]
        step = n // len(SYMBOLS)
        qty, ticks = CYCLE[step % len(CYCLE)]
        yield {
            "ts": BASE_NS + n * 1_000_000,
            "symbol": symbol,
            "side": "buy" if qty > 0 else "sell",
            "qty": abs(qty),
            "price": base + (ticks + step % 13) * 0.25,
            "commission": 0.37 * abs(qty),
        }


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def push(exporter: Exporter, start: int, count: int, *, progress: bool = False) -> None:
    if start == 0:
        for symbol, _ in SYMBOLS:
            exporter.instrument(symbol, multiplier=5, tick_size=0.25)
    for n, fill in enumerate(fills(start, count), start=start):
        exporter.execution(**fill)
        if progress and (n + 1) % 1000 == 0:
            say(f"spooled {n + 1}")
    exporter.end(ts=BASE_NS + count * 1_000_000)


def main() -> None:
    url, api_key, spool, start, count = sys.argv[1:6]
    with Exporter(url, api_key, "chaos", RUN, spool_path=spool, batch_size=2000,
                  max_batch_age=0.1, backoff_base=0.05, backoff_cap=0.5, timeout=5.0) as exporter:
        push(exporter, int(start), int(count), progress=True)
        exporter.flush(timeout=None)
        say(f"done {exporter.stats}")


if __name__ == "__main__":
    main()
