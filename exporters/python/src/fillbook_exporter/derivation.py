"""What the service says about the trades a batch touched (`POST /api/ingest?wait=derived`). Pure.

With `?wait=derived&timeout=N` the service answers a batch only once the positions
the batch touched are re-derived (their trades rebuilt), or failed and backing off,
or once N seconds passed, and its 200 body carries

    "derivation": {"state": "derived" | "pending" | "failed",
                   "pending_positions": <int>,
                   "failed_positions": [{"run_id", "symbol", "account", "error", "since",
                                         "attempts", "retry_at"}]}

(docs/ingest.md); `GET /api/runs/{id}` carries the same object for a whole run.
`Exporter.flush(wait="derived")` sends the batches of that flush so and returns a
`Derivation` that sums up their answers (`merge`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

DerivationState = Literal["derived", "pending", "failed"]
STATES: tuple[DerivationState, ...] = ("derived", "pending", "failed")  # from best to worst
WAIT_CAP_SECONDS = 30  # the most one batch asks the service to wait


@dataclass(frozen=True)
class FailedPosition:
    """A position (symbol, account) whose trades the service could not re-derive.

    The service retries it with back-off (`attempts` so far, next at `retry_at`).
    """

    symbol: str
    account: str
    error: str
    since: dt.datetime
    run_id: int | None = None
    attempts: int | None = None
    retry_at: dt.datetime | None = None

    def __str__(self) -> str:
        return f"{self.symbol}/{self.account or '-'} since {self.since.isoformat()}: {self.error}"


@dataclass(frozen=True)
class Derivation:
    """The derivation state of the trades that batches touched.

    - `derived`: every touched position is re-derived; reading trades now sees the batch;
    - `pending`: the wait's bound passed first; `pending_positions` were still waiting
      (not an error: they are derived a little later);
    - `failed`: re-deriving `failed_positions` failed (the service keeps retrying them).
    `batches` is how many answers this sums up.
    """

    state: DerivationState
    pending_positions: int = 0
    failed_positions: tuple[FailedPosition, ...] = ()
    batches: int = 1

    @property
    def derived(self) -> bool:
        """True when every position the batches touched was re-derived."""
        return self.state == "derived"

    def __str__(self) -> str:
        if self.state == "pending":
            return f"pending: {self.pending_positions} positions not yet derived"
        if self.state == "failed":
            return "failed: " + "; ".join(str(p) for p in self.failed_positions)
        return "derived"

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Derivation:
        """The `derivation` object of an ingest answer; ValueError if it is not one."""
        state = body.get("state")
        if state not in STATES:
            raise ValueError(f"derivation.state: expected one of {', '.join(STATES)}, "
                             f"got {state!r}")
        pending = body.get("pending_positions", 0)
        if not isinstance(pending, int) or isinstance(pending, bool) or pending < 0:
            raise ValueError(f"derivation.pending_positions: expected a count, got {pending!r}")
        failed = body.get("failed_positions")
        failed = [] if failed is None else failed
        if not isinstance(failed, list):
            raise ValueError(f"derivation.failed_positions: expected a list, got {failed!r}")
        return cls(cast(DerivationState, state), pending,
                   tuple(_failed(item, n) for n, item in enumerate(failed)))

    @classmethod
    def merge(cls, answers: Iterable[Derivation]) -> Derivation | None:
        """One state for the answers of several batches (None for none).

        The worst state wins (failed over pending over derived): a later batch's wait
        covers only the positions it touched, not those an earlier answer left pending.
        `pending_positions` is the count of the latest answer that was not `derived`;
        `failed_positions` the latest report of each failed position.
        """
        items = list(answers)
        if not items:
            return None
        state = max((item.state for item in items), key=STATES.index)
        pending = next((item.pending_positions for item in reversed(items)
                        if item.state != "derived"), 0)
        failed: dict[tuple[int | None, str, str], FailedPosition] = {}
        for item in items:
            for position in item.failed_positions:
                failed[(position.run_id, position.symbol, position.account)] = position
        return cls(state, pending, tuple(failed.values()), sum(item.batches for item in items))


def _failed(item: object, index: int) -> FailedPosition:
    where = f"derivation.failed_positions[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected an object, got {item!r}")
    run_id, attempts = item.get("run_id"), item.get("attempts")
    retry_at = item.get("retry_at")
    return FailedPosition(
        str(item.get("symbol", "")), str(item.get("account", "")), str(item.get("error", "")),
        _time(item.get("since"), f"{where}.since"),
        run_id=run_id if isinstance(run_id, int) else None,
        attempts=attempts if isinstance(attempts, int) else None,
        retry_at=None if retry_at is None else _time(retry_at, f"{where}.retry_at"),
    )


def _time(value: object, where: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: expected an ISO-8601 time, got {value!r}") from None
