"""The SDK's copy of the contract against the service's own validator.

The SDK checks times and amounts where the caller can still fix them
(fillbook_exporter.events / .domain); the service checks them again on arrival
(backend.ingest.decode.prepare_batch, the validator behind POST /api/ingest). Each
example below goes through both: what the SDK refuses the service refuses, what it
accepts the service accepts, and both read the same instant. A drift (an offset
spelling one accepts and the other refuses, a limit moved on one side) fails here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import orjson
from fillbook_exporter import domain
from fillbook_exporter.events import parse_iso, to_ns
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend.ingest.decode import prepare_batch

RUN = {"key": "contract", "strategy": "Contract", "mode": "backtest"}


def server(event: dict[str, Any]) -> tuple[Mapping[str, Any] | None, str]:
    """The event as the service stores it, or None and the service's reason."""
    body = orjson.dumps({"source": "sdk", "run": RUN, "events": [event]})
    prepared = prepare_batch(body, "json", user_id=1)
    if prepared.rejected:
        return None, prepared.rejected[0].error
    return prepared.events[0][1], ""


def fill(**fields: Any) -> dict[str, Any]:
    return {"type": "execution", "id": "x-1", "ts": 1_704_067_200 * 10**9, "symbol": "MESZ3",
            "side": "buy", "qty": 1, "price": 4700.25, **fields}  # fmt: skip


def sdk_ts(value: Any) -> tuple[int | None, str]:
    """Epoch microseconds of `value` as the SDK reads it (the SDK's datetimes hold µs),
    or None and its reason."""
    try:
        sent = to_ns(value)
    except (ValueError, TypeError) as exc:
        return None, str(exc)
    if isinstance(sent, int):
        return sent // 1000, ""
    when = parse_iso(sent)
    return (when - domain.MIN_TS) // dt.timedelta(microseconds=1), ""


OFFSETS = st.sampled_from(["Z", "z", "+00:00", "+0000", "-05:00", "-0500", "+05:30", "+0530",
                           "+14:00", "-12:00", "+1", "+000", "+00:0", "", "UTC",
                           " +00:00"])  # fmt: skip
FRACTIONS = st.sampled_from(["", ".5", ",25", ".123456", ".123456789", ".1234567891", "."])
ISO_TEXT = st.builds(
    lambda day, clock, fraction, offset, sep: f"{day:%Y-%m-%d}{sep}{clock}{fraction}{offset}",
    st.dates(min_value=dt.date(1969, 12, 30), max_value=dt.date(2200, 1, 2)),
    st.sampled_from(["00:00", "00:00:00", "23:59:59", "12:30:45", "24:00:00", "9:30:00"]),
    FRACTIONS,
    OFFSETS,
    st.sampled_from(["T", " ", "t"]),
)
EPOCH_NS = st.one_of(
    st.integers(min_value=-(10**18), max_value=10**19),
    st.sampled_from([domain.NS_FLOOR - 1, domain.NS_FLOOR, domain.MAX_TS_NS - 1, domain.MAX_TS_NS]),
)


class TestTimes:
    @settings(max_examples=400, deadline=None)
    @given(st.one_of(ISO_TEXT, EPOCH_NS))
    @example("2023-12-15T14:30:00+0000")  # the spelling the SDK once refused
    @example("2199-12-31T23:59:59.999999999Z")
    @example("1970-01-01T00:00:00Z")
    @example("1969-12-31T23:59:59Z")
    @example("2200-01-01T00:00:00Z")
    def test_the_sdk_and_the_service_accept_the_same_times_as_the_same_instants(
        self, value: Any
    ) -> None:
        stored, reason = server(fill(ts=value))
        micros, sdk_reason = sdk_ts(value)
        assert (stored is None) == (micros is None), (value, reason or sdk_reason)
        if stored is not None:
            assert stored["ts"] // 1000 == micros, value


AMOUNT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1e-8, 9.99e-9, 90_000_000, 90_000_000.000001, 1e308, -0.0]),
)


class TestAmounts:
    @settings(max_examples=300, deadline=None)
    @given(AMOUNT)
    def test_qty_and_price_are_refused_by_both_or_neither(self, value: float) -> None:
        for name in ("qty", "price"):
            try:
                sent: float | None = domain.positive_amount(value, name)
            except ValueError:
                sent = None
            stored, reason = server(fill(**{name: value})) if math.isfinite(value) else (None, "")
            assert (stored is None) == (sent is None), (name, value, reason)
            if stored is not None:
                assert stored[name] == sent

    @settings(max_examples=300, deadline=None)
    @given(AMOUNT)
    def test_commission_is_refused_by_both_or_neither(self, value: float) -> None:
        try:
            sent: float | None = domain.amount(value, "commission")
        except ValueError:
            sent = None
        stored, reason = server(fill(commission=value)) if math.isfinite(value) else (None, "")
        assert (stored is None) == (sent is None), (value, reason)
        if stored is not None:
            assert stored["commission"] == sent
