"""`GET /api/regimes/timeline` and `regime_at_entries` through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from backend.errors import InvalidPayload
from backend.ingest.timestamps import format_ts, parse_ts
from backend.market import service as market_service
from backend.regimes import learned, service
from backend.regimes.classify import Tag
from backend.regimes.service import regime_at_entries, regime_timeframe
from backend.regimes.timeline import segments
from tests.ingest.helpers import batch, push
from tests.regimes.bars import FIVE_MINUTES, NS, T0, Bars, bars_from_closes, random_walk

MINUTE = 60 * NS
UP, DOWN = 600, 100


def up_then_down() -> Bars:
    """600 5m bars rising by 1 (1000 .. 1599), then 100 falling by 1; wicks 0.5, true range 2."""
    i = np.arange(UP + DOWN, dtype=np.float64)
    return bars_from_closes(np.where(i < UP, 1000 + i, 1599 - (i - 599)))


# Defaults: tags from bar 513 (14 bars of ATR + 500 of NATR rank). ATR is 2 throughout.
# Up: (SMA20 - SMA50) / 2 = 7.5; NATR = 2 / close falls, rank 0: up, low.
# Bar 619: SMA20 1588.5, SMA50 1586.1: score 1.2, range (bar 618: 1.8, up).
# Bar 625: SMA20 1582.5, SMA50 1586.46: score -1.98, down (bar 624: exactly -1.5, range).
# Bar 650 (close 1548): 101 NATRs below it, 1 equal: rank 101.5 / 499 > 0.2, normal.
# Each segment starts when its first bar closes: bar i closes at T0 + (i + 1) x 5m.
UP_THEN_DOWN_SEGMENTS: list[dict[str, str | None]] = [
    {"start": "2023-11-17T20:50:00Z", "end": "2023-11-18T05:40:00Z", "trend": "up", "volatility": "low"},
    {"start": "2023-11-18T05:40:00Z", "end": "2023-11-18T06:10:00Z", "trend": "range", "volatility": "low"},
    {"start": "2023-11-18T06:10:00Z", "end": "2023-11-18T08:15:00Z", "trend": "down", "volatility": "low"},
    {"start": "2023-11-18T08:15:00Z", "end": None, "trend": "down", "volatility": "normal"},
]  # fmt: skip


def bar_events(bars: Bars, timeframe: str = "5m", symbol: str = "MESZ3") -> list[dict[str, Any]]:
    return [
        {"type": "bar", "symbol": symbol, "timeframe": timeframe, "ts": ts,
         "open": o, "high": h, "low": lo, "close": c, "volume": 1}
        for ts, o, h, lo, c in zip(*(column.tolist() for column in bars), strict=True)
    ]  # fmt: skip


def minute_events(bars: Bars) -> list[dict[str, Any]]:
    """Five 1m bars per 5m bar, moving from its open to its close; they aggregate back to it."""
    events = []
    for ts, o, h, lo, c in zip(*(column.tolist() for column in bars), strict=True):
        path = [o + (c - o) * step / 5 for step in range(6)]
        wick = (h - max(o, c), min(o, c) - lo)
        for step in range(5):
            first, last = path[step], path[step + 1]
            events.append({"type": "bar", "symbol": "MESZ3", "timeframe": "1m",
                           "ts": ts + step * MINUTE, "open": first, "close": last,
                           "high": max(first, last) + wick[0], "low": min(first, last) - wick[1]})  # fmt: skip
    return events


def ingest(client: TestClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    for first in range(0, len(events), 10_000):
        assert push(client, headers, batch(events[first : first + 10_000]))["rejected"] == []


def get_timeline(client: TestClient, headers: dict[str, str], **params: Any) -> Response:
    query = {"symbol": "MESZ3", "timeframe": "5m", **params}
    response: Response = client.get("/api/regimes/timeline", params=query, headers=headers)
    return response


def ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def user_id(client: TestClient, headers: dict[str, str]) -> int:
    return int(ok(client.get("/api/auth/me", headers=headers))["id"])


def entries(
    client: TestClient, headers: dict[str, str], times: list[int], method: str = "rules",
    symbol: str = "MESZ3",
) -> list[Tag | None]:  # fmt: skip
    context = client.app.state.context  # type: ignore[attr-defined]
    with context.db.session() as session:
        tags: list[Tag | None] = regime_at_entries(
            session, user_id(client, headers), symbol, times, method
        )
    return tags


class TestTimeline:
    def test_segments_of_stored_bars(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, bar_events(up_then_down()))
        assert ok(get_timeline(client, alice)) == {
            "symbol": "MESZ3",
            "timeframe": "5m",
            "source_timeframe": "5m",
            "method": "rules",
            "version": 1,
            "params": {"fast": 20, "slow": 50, "atr_window": 14, "trend_threshold": 1.5,
                       "vol_lookback": 500, "vol_low": 0.2, "vol_high": 0.8},
            "segments": UP_THEN_DOWN_SEGMENTS,
        }  # fmt: skip

    def test_bars_aggregated_from_finer_ones(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        ingest(client, alice_key, minute_events(up_then_down()))
        document = ok(get_timeline(client, alice_key))
        assert document["source_timeframe"] == "1m"
        assert document["segments"] == UP_THEN_DOWN_SEGMENTS

    def test_start_and_end_clip_with_warm_up_before_start(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, bar_events(up_then_down()))
        document = ok(get_timeline(client, alice, start="2023-11-18T06:00:00Z",
                                   end="2023-11-18T09:00:00+01:00"))  # fmt: skip
        assert document["segments"] == [
            {"start": "2023-11-18T06:00:00Z", "end": "2023-11-18T06:10:00Z", "trend": "range", "volatility": "low"},
            {"start": "2023-11-18T06:10:00Z", "end": "2023-11-18T08:00:00Z", "trend": "down", "volatility": "low"},
        ]  # fmt: skip

    def test_history_before_a_long_gap_is_read_too(
        self, client: TestClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # 20 days between the up and the down bars: more than the first read's margin
        # (2 x 514 bars x 5m + 4 days), so the service reads everything before `start`.
        bars = up_then_down()
        gap = np.where(np.arange(len(bars.ts)) >= UP, 20 * 86_400 * NS, 0)
        gapped = bars._replace(ts=bars.ts + gap)
        ingest(client, alice, bar_events(gapped))
        start = format_ts(int(gapped.ts[UP]) + 4 * 5 * MINUTE)  # bar 603 has closed
        reads: list[int | None] = []
        read_bars = market_service.read_bars

        def counting(session: Any, series: Any, query: market_service.BarsQuery) -> Any:
            reads.append(query.start)
            return read_bars(session, series, query)

        monkeypatch.setattr(market_service, "read_bars", counting)
        document = ok(get_timeline(client, alice, start=start))
        assert len(reads) == 2
        assert reads[0] is not None
        assert reads[0] > int(gapped.ts[UP - 1])  # from after the gap began
        assert reads[1] is None  # then everything before `start`
        shifted = [
            {**segment, "start": format_ts(T0 + (index + 1) * 5 * MINUTE + 20 * 86_400 * NS)}
            for segment, index in zip(UP_THEN_DOWN_SEGMENTS[1:], (619, 625, 650), strict=True)
        ]
        for segment, following in zip(shifted, shifted[1:], strict=False):
            segment["end"] = following["start"]
        assert document["segments"] == [
            {"start": start, "end": shifted[0]["start"], "trend": "up", "volatility": "low"},
            *shifted,
        ]

    def test_the_learned_method(self, client: TestClient, alice: dict[str, str]) -> None:
        bars = random_walk(1300, seed=31)
        ingest(client, alice, bar_events(bars))
        document = ok(get_timeline(client, alice, method="gmm"))
        assert (document["method"], document["version"]) == ("gmm", 1)
        assert document["params"]["n_components"] == 4
        # The first fit needs 500 known feature rows: at T0 + 1000 bars, when bar 999 closes.
        assert document["segments"][0]["start"] == format_ts(T0 + 1000 * 5 * MINUTE)
        expected = segments(learned.classify_series(*bars, FIVE_MINUTES))
        assert [(s["start"], s["trend"], s["volatility"]) for s in document["segments"]] == [
            (format_ts(s.start_ns), s.trend, s.volatility) for s in expected
        ]
        assert len(expected) > 3
        # From a start inside a segment: the same tags, clipped.
        start_ns = (expected[2].start_ns + expected[3].start_ns) // 2
        clipped = ok(get_timeline(client, alice, method="gmm", start=str(start_ns)))
        assert clipped["segments"][0] == {**document["segments"][2], "start": format_ts(start_ns)}
        assert clipped["segments"][1:] == document["segments"][3:]


class TestEntries:
    def test_tags_at_entries_match_the_timeline(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_events(up_then_down()))
        close_619 = T0 + 620 * 5 * MINUTE
        times = [close_619 - 1, close_619, T0 + 10 * MINUTE, T0 + 700 * 5 * MINUTE + 10**15]
        assert entries(client, alice, times) == [
            Tag("up", "low", "rules", 1),
            Tag("range", "low", "rules", 1),
            None,  # too little history
            Tag("down", "normal", "rules", 1),
        ]

    def test_every_segment_start_and_end_agree(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        bars = random_walk(1800, seed=32)
        ingest(client, alice, bar_events(bars))
        rng = np.random.default_rng(1)
        for method in ("rules", "gmm"):
            spans = [
                (parse_ts(s["start"]), parse_ts(s["end"]) if s["end"] else None,
                 Tag(s["trend"], s["volatility"], method, 1))
                for s in ok(get_timeline(client, alice, method=method))["segments"]
            ]  # fmt: skip
            times = [start for start, _, _ in spans] + [end - 1 for _, end, _ in spans if end]
            times += rng.integers(T0, T0 + 1900 * 5 * MINUTE, 50).tolist()
            got = entries(client, alice, times, method)
            for t, tag in zip(times, got, strict=True):
                inside = [
                    held for start, end, held in spans if start <= t and (end is None or t < end)
                ]
                expected: list[Tag | None] = [*inside] or [None]
                assert [tag] == expected, (method, format_ts(t))

    def test_no_bars_no_tags(self, client: TestClient, alice: dict[str, str]) -> None:
        assert entries(client, alice, [T0, T0 + 1]) == [None, None]
        assert entries(client, alice, []) == []

    def test_unknown_method(self, client: TestClient, alice: dict[str, str]) -> None:
        with pytest.raises(
            InvalidPayload, match="method: must be one of 'rules', 'gmm', got 'hmm'"
        ):
            entries(client, alice, [T0], "hmm")


class TestRegimeTimeframe:
    @pytest.mark.parametrize(
        ("stored", "chosen"),
        [
            ([1], 300), ([60, 3600], 300), ([300], 300), ([120], 1800), ([450], 900),
            ([420, 2700], 2700), ([14_400, 86_400], 14_400),
        ],
    )  # fmt: skip
    def test_choice(self, stored: list[int], chosen: int) -> None:
        assert regime_timeframe(stored) == chosen


class TestAccess:
    def test_another_users_symbol_is_404(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        ingest(client, alice, bar_events(up_then_down().head(50)))
        response = get_timeline(client, bob)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found",
                                   "detail": "symbol: no bars of 'MESZ3' are stored"}  # fmt: skip
        assert entries(client, bob, [T0 + 10**15]) == [None]

    def test_unauthenticated_is_401(self, client: TestClient) -> None:
        response = client.get(
            "/api/regimes/timeline", params={"symbol": "MESZ3", "timeframe": "5m"}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"

    def test_a_timeframe_no_stored_one_divides_is_404(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, bar_events(up_then_down().head(5)))
        response = get_timeline(client, alice, timeframe="7m")
        assert response.status_code == 404
        assert response.json()["detail"].startswith("timeframe: 7m bars of 'MESZ3' are not stored")

    def test_too_few_bars_give_no_segments(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, bar_events(up_then_down().head(100)))
        assert ok(get_timeline(client, alice))["segments"] == []


class TestInvalidQueries:
    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"timeframe": "5x"}, "timeframe: must be a positive number and a unit s, m, h or d"),
            ({"method": "hmm"}, "query.method: Input should be 'rules' or 'gmm'"),
            ({"start": "2023-11-18T06:00:00"}, "start: '2023-11-18T06:00:00' has no UTC offset"),
            ({"start": "2023-11-18T06:00:00Z", "end": "2023-11-18T05:00:00Z"}, "end: must be after start"),
        ],
    )  # fmt: skip
    def test_bad_queries_are_422_naming_the_field(
        self, client: TestClient, alice: dict[str, str], params: dict[str, str], detail: str
    ) -> None:
        ingest(client, alice, bar_events(up_then_down().head(5)))
        response = get_timeline(client, alice, **params)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_payload"
        assert response.json()["detail"].startswith(detail)

    def test_too_many_bars_is_422(
        self, client: TestClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "MAX_TIMELINE_BARS", 99)
        ingest(client, alice, bar_events(up_then_down().head(100)))
        response = get_timeline(client, alice)
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "start: the timeline classifies at most 99 5m bars, warm-up included, and this span "
            "holds more; narrow start..end or choose a coarser timeframe"
        )
        assert get_timeline(client, alice, end="2023-11-16T08:00:00Z").status_code == 200  # 72 bars

    def test_missing_symbol_is_422(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.get("/api/regimes/timeline", params={"timeframe": "5m"}, headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"] == "query.symbol: Field required"
