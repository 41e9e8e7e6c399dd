"""`GET /api/bars` through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from backend.ingest.timestamps import parse_ts
from backend.market import service
from tests.conftest import create_api_key
from tests.ingest.helpers import batch, push

NS = 1_000_000_000


def bar(
    ts: str | int, open_: float, high: float, low: float, close: float, volume: float | None = None,
    *, timeframe: str = "1m", symbol: str = "MESZ3", **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    event = {"type": "bar", "symbol": symbol, "timeframe": timeframe, "ts": ts,
             "open": open_, "high": high, "low": low, "close": close, **extra}  # fmt: skip
    if volume is not None:
        event["volume"] = volume
    return event


def ingest(client: TestClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    result = push(client, headers, batch(events))
    assert result["rejected"] == []


def get_bars(client: TestClient, headers: dict[str, str], **params: Any) -> Response:
    response: Response = client.get(
        "/api/bars", params={"symbol": "MESZ3", **params}, headers=headers
    )
    return response


def ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def minute_bars(first: str, count: int, **extra: Any) -> list[dict[str, Any]]:
    """`count` 1m bars from `first`: bar i opens at 100 + i, high +2, low -1, close +0.5."""
    start = parse_ts(first)
    return [
        bar(start + i * 60 * NS, 100 + i, 102 + i, 99 + i, 100.5 + i, 10, **extra)
        for i in range(count)
    ]


def second_bars() -> list[dict[str, Any]]:
    """1s bars across three 5m buckets (10:00, 10:05, 10:15), with a gap and missing volumes."""
    return [
        bar("2023-12-15T10:00:00Z", 4700.0, 4701.0, 4699.5, 4700.5, 5, timeframe="1s"),
        bar("2023-12-15T10:00:01Z", 4700.5, 4702.25, 4700.0, 4702.0, timeframe="1s"),
        bar("2023-12-15T10:02:30Z", 4702.0, 4702.5, 4698.75, 4699.0, 7, timeframe="1s",
            bid_volume=3, ask_volume=4),
        bar("2023-12-15T10:04:59Z", 4699.0, 4700.0, 4699.0, 4699.75, 1, timeframe="1s"),
        bar("2023-12-15T10:05:00Z", 4699.75, 4700.0, 4699.5, 4700.0, timeframe="1s"),
        bar("2023-12-15T10:07:00Z", 4700.0, 4703.0, 4700.0, 4702.5, timeframe="1s"),
        bar("2023-12-15T10:15:03Z", 4702.5, 4702.5, 4701.0, 4701.25, 2, timeframe="1s"),
    ]  # fmt: skip


FIVE_MINUTE_BARS = [
    {"ts": "2023-12-15T10:00:00Z", "open": 4700.0, "high": 4702.5, "low": 4698.75,
     "close": 4699.75, "volume": 13.0, "bid_volume": 3.0, "ask_volume": 4.0},
    {"ts": "2023-12-15T10:05:00Z", "open": 4699.75, "high": 4703.0, "low": 4699.5,
     "close": 4702.5, "volume": None, "bid_volume": None, "ask_volume": None},
    {"ts": "2023-12-15T10:15:00Z", "open": 4702.5, "high": 4702.5, "low": 4701.0,
     "close": 4701.25, "volume": 2.0, "bid_volume": None, "ask_volume": None},
]  # fmt: skip


class TestStoredTimeframe:
    def test_bars_of_the_stored_timeframe_come_back_as_stored(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, [
            bar("2023-12-15T14:31:00Z", 4701.25, 4702.0, 4700.5, 4701.75),
            bar("2023-12-15T14:30:00Z", 4700.0, 4701.5, 4699.75, 4701.25, 1834,
                bid_volume=900, ask_volume=934),
        ])  # fmt: skip
        assert ok(get_bars(client, alice, timeframe="1m")) == {
            "symbol": "MESZ3",
            "timeframe": "1m",
            "source_timeframe": "1m",
            "bars": [
                {"ts": "2023-12-15T14:30:00Z", "open": 4700.0, "high": 4701.5, "low": 4699.75,
                 "close": 4701.25, "volume": 1834.0, "bid_volume": 900.0, "ask_volume": 934.0},
                {"ts": "2023-12-15T14:31:00Z", "open": 4701.25, "high": 4702.0, "low": 4700.5,
                 "close": 4701.75, "volume": None, "bid_volume": None, "ask_volume": None},
            ],
            "next_start": None,
        }  # fmt: skip

    def test_start_is_inclusive_end_exclusive_in_iso_or_epoch_ns(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T14:30:00Z", 5))
        start = str(parse_ts("2023-12-15T14:31:00Z"))
        document = ok(get_bars(client, alice, timeframe="1m", start=start,
                               end="2023-12-15T15:33:00+01:00"))  # fmt: skip
        assert [b["ts"] for b in document["bars"]] == [
            "2023-12-15T14:31:00Z",
            "2023-12-15T14:32:00Z",
        ]
        assert [b["open"] for b in document["bars"]] == [101.0, 102.0]

    def test_an_api_key_reads_too(self, client: TestClient, alice: dict[str, str]) -> None:
        key = {"Authorization": f"Bearer {create_api_key(client, alice)}"}
        ingest(client, key, minute_bars("2023-12-15T14:30:00Z", 2))
        assert [b["close"] for b in ok(get_bars(client, key, timeframe="1m"))["bars"]] == [
            100.5,
            101.5,
        ]


class TestAggregation:
    def test_one_second_bars_make_five_minute_bars(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        document = ok(get_bars(client, alice, timeframe="5m"))
        assert document["timeframe"] == "5m"
        assert document["source_timeframe"] == "1s"
        assert document["bars"] == FIVE_MINUTE_BARS
        assert document["next_start"] is None

    def test_one_minute_bars_make_hour_bars(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T09:58:00Z", 65))  # 09:58 .. 11:02
        document = ok(get_bars(client, alice, timeframe="1h"))
        assert document["source_timeframe"] == "1m"
        assert document["bars"] == [
            {"ts": "2023-12-15T09:00:00Z", "open": 100.0, "high": 103.0, "low": 99.0,
             "close": 101.5, "volume": 20.0, "bid_volume": None, "ask_volume": None},
            {"ts": "2023-12-15T10:00:00Z", "open": 102.0, "high": 163.0, "low": 101.0,
             "close": 161.5, "volume": 600.0, "bid_volume": None, "ask_volume": None},
            {"ts": "2023-12-15T11:00:00Z", "open": 162.0, "high": 166.0, "low": 161.0,
             "close": 164.5, "volume": 30.0, "bid_volume": None, "ask_volume": None},
        ]  # fmt: skip

    def test_aggregated_bars_are_whole_buckets_opening_in_the_range(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T09:58:00Z", 65))
        late = ok(get_bars(client, alice, timeframe="1h", start="2023-12-15T10:30:00Z"))
        assert [(b["ts"], b["open"]) for b in late["bars"]] == [("2023-12-15T11:00:00Z", 162.0)]
        early = ok(get_bars(client, alice, timeframe="1h", end="2023-12-15T10:30:00Z"))
        assert [(b["ts"], b["close"], b["volume"]) for b in early["bars"]] == [
            ("2023-12-15T09:00:00Z", 101.5, 20.0),
            ("2023-12-15T10:00:00Z", 161.5, 600.0),  # the whole hour, not up to 10:30
        ]

    def test_the_finest_dividing_timeframe_is_the_source(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars() + [
            bar("2023-12-15T10:00:00Z", 1.0, 1.0, 1.0, 1.0, timeframe="1m"),
            bar("2023-12-15T10:00:00Z", 1.0, 1.0, 1.0, 1.0, timeframe="2m"),
        ])  # fmt: skip
        document = ok(get_bars(client, alice, timeframe="5m"))
        assert document["source_timeframe"] == "1s"
        assert document["bars"] == FIVE_MINUTE_BARS
        assert ok(get_bars(client, alice, timeframe="4m"))["bars"][0]["open"] == 4700.0

    def test_no_dividing_timeframe_is_404_naming_the_stored_ones(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, [
            bar("2023-12-15T10:00:00Z", 1.0, 1.0, 1.0, 1.0, timeframe="2m"),
            bar("2023-12-15T10:00:00Z", 1.0, 1.0, 1.0, 1.0, timeframe="3m"),
        ])  # fmt: skip
        response = get_bars(client, alice, timeframe="5m")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert response.json()["detail"] == (
            "timeframe: 5m bars of 'MESZ3' are not stored and no stored timeframe divides it;"
            " stored: 2m, 3m"
        )
        assert get_bars(client, alice, timeframe="1m").status_code == 404  # finer than stored

    def test_chunked_source_reads_give_the_same_buckets(
        self, client: TestClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # 3 source rows per database round trip: buckets straddle every chunk boundary.
        monkeypatch.setattr(service, "STREAM_CHUNK", 3)
        ingest(client, alice, second_bars())
        assert ok(get_bars(client, alice, timeframe="5m"))["bars"] == FIVE_MINUTE_BARS
        ingest(client, alice, minute_bars("2023-12-15T09:58:00Z", 65, symbol="NQZ3"))
        hours = ok(get_bars(client, alice, timeframe="1h", symbol="NQZ3"))["bars"]
        assert [(b["open"], b["high"], b["volume"]) for b in hours] == [
            (100.0, 103.0, 20.0),
            (102.0, 163.0, 600.0),
            (162.0, 166.0, 30.0),
        ]


class TestCache:
    def test_an_updated_live_bar_changes_the_aggregate(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        cache = client.app.state.context.extras  # type: ignore[attr-defined]
        first = ok(get_bars(client, alice, timeframe="5m"))
        assert ok(get_bars(client, alice, timeframe="5m")) == first
        assert cache["bar_cache"].hits == 1
        # The 10:07:00 bar is still live: same identity, new high, close and volume.
        ingest(client, alice, [
            bar("2023-12-15T10:07:00Z", 4700.0, 4705.0, 4700.0, 4704.75, 9, timeframe="1s"),
        ])  # fmt: skip
        second = ok(get_bars(client, alice, timeframe="5m"))
        assert second["bars"][1] == {
            "ts": "2023-12-15T10:05:00Z", "open": 4699.75, "high": 4705.0, "low": 4699.5,
            "close": 4704.75, "volume": 9.0, "bid_volume": None, "ask_volume": None,
        }  # fmt: skip
        assert second["bars"][0] == first["bars"][0]
        assert cache["bar_cache"].hits == 1

    def test_a_new_bar_shows_up_in_the_aggregate(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        assert len(ok(get_bars(client, alice, timeframe="5m"))["bars"]) == 3
        ingest(client, alice, [bar("2023-12-15T10:21:00Z", 1.0, 2.0, 0.5, 1.5, 4, timeframe="1s")])
        bars = ok(get_bars(client, alice, timeframe="5m"))["bars"]
        assert [(b["ts"], b["close"]) for b in bars[2:]] == [
            ("2023-12-15T10:15:00Z", 4701.25),
            ("2023-12-15T10:20:00Z", 1.5),
        ]

    def test_other_symbols_keep_their_cached_pages(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        ok(get_bars(client, alice, timeframe="5m"))
        ingest(client, alice, [bar("2023-12-15T10:21:00Z", 1.0, 2.0, 0.5, 1.5, timeframe="1s",
                                   symbol="ESZ3")])  # fmt: skip
        assert ok(get_bars(client, alice, timeframe="5m"))["bars"] == FIVE_MINUTE_BARS
        assert client.app.state.context.extras["bar_cache"].hits == 1  # type: ignore[attr-defined]


class TestChunks:
    def test_limit_and_next_start_walk_the_stored_bars(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T14:30:00Z", 10))
        opens: list[float] = []
        starts: list[str | None] = []
        start: str | None = None
        while True:
            params = {"timeframe": "1m", "limit": 4} | ({"start": start} if start else {})
            document = ok(get_bars(client, alice, **params))
            opens += [b["open"] for b in document["bars"]]
            start = document["next_start"]
            starts.append(start)
            if start is None:
                break
        assert opens == [100.0 + i for i in range(10)]
        assert starts == ["2023-12-15T14:34:00Z", "2023-12-15T14:38:00Z", None]

    def test_limit_counts_aggregated_bars(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, second_bars())
        first = ok(get_bars(client, alice, timeframe="5m", limit=2))
        assert first["bars"] == FIVE_MINUTE_BARS[:2]
        assert first["next_start"] == "2023-12-15T10:15:00Z"
        rest = ok(get_bars(client, alice, timeframe="5m", limit=2, start=first["next_start"]))
        assert rest["bars"] == FIVE_MINUTE_BARS[2:]
        assert rest["next_start"] is None

    def test_columnar_next_start_is_epoch_ns(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T14:30:00Z", 3))
        document = ok(get_bars(client, alice, timeframe="1m", limit=2, format="columnar-json"))
        assert document["next_start"] == parse_ts("2023-12-15T14:32:00Z")
        rest = ok(get_bars(client, alice, timeframe="1m", start=document["next_start"],
                           format="columnar-json"))  # fmt: skip
        assert rest["open"] == [102.0]


class TestFormats:
    EXPECTED_COLUMNS: dict[str, Any] = {
        "symbol": "MESZ3",
        "timeframe": "5m",
        "source_timeframe": "1s",
        "ts": [parse_ts(t) for t in
               ("2023-12-15T10:00:00Z", "2023-12-15T10:05:00Z", "2023-12-15T10:15:00Z")],
        "open": [4700.0, 4699.75, 4702.5],
        "high": [4702.5, 4703.0, 4702.5],
        "low": [4698.75, 4699.5, 4701.0],
        "close": [4699.75, 4702.5, 4701.25],
        "volume": [13.0, None, 2.0],
        "bid_volume": [3.0, None, None],
        "ask_volume": [4.0, None, None],
        "next_start": None,
    }  # fmt: skip

    def test_columnar_is_messagepack(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, second_bars())
        response = get_bars(client, alice, timeframe="5m", format="columnar")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/msgpack"
        assert msgpack.unpackb(response.content) == self.EXPECTED_COLUMNS

    def test_accept_msgpack_chooses_columnar(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        headers = {**alice, "Accept": "application/msgpack"}
        response = get_bars(client, headers, timeframe="5m")
        assert response.headers["content-type"] == "application/msgpack"
        assert msgpack.unpackb(response.content) == self.EXPECTED_COLUMNS
        preferring_json = {**alice, "Accept": "application/msgpack;q=0.5, application/json"}
        assert ok(get_bars(client, preferring_json, timeframe="5m"))["bars"] == FIVE_MINUTE_BARS

    def test_columnar_json(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, second_bars())
        response = get_bars(client, alice, timeframe="5m", format="columnar-json")
        assert response.headers["content-type"] == "application/json"
        assert ok(response) == self.EXPECTED_COLUMNS

    def test_stored_bars_in_columnar_form(self, client: TestClient, alice: dict[str, str]) -> None:
        ingest(client, alice, minute_bars("2023-12-15T14:30:00Z", 2))
        document = msgpack.unpackb(
            get_bars(client, alice, timeframe="1m", format="columnar").content
        )
        assert document["ts"] == [
            parse_ts("2023-12-15T14:30:00Z"),
            parse_ts("2023-12-15T14:31:00Z"),
        ]
        assert document["close"] == [100.5, 101.5]
        assert document["volume"] == [10.0, 10.0]
        assert document["source_timeframe"] == "1m"


class TestAccess:
    def test_another_users_bars_are_invisible(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        ingest(client, alice, second_bars())
        for timeframe in ("1s", "5m"):
            response = get_bars(client, bob, timeframe=timeframe)
            assert response.status_code == 404
            assert response.json()["detail"] == "symbol: no bars of 'MESZ3' are stored"
        ingest(client, bob, [bar("2023-12-15T10:00:00Z", 1.0, 2.0, 0.5, 1.5, timeframe="1s")])
        assert ok(get_bars(client, bob, timeframe="5m"))["bars"] == [
            {"ts": "2023-12-15T10:00:00Z", "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
             "volume": None, "bid_volume": None, "ask_volume": None},
        ]  # fmt: skip
        assert ok(get_bars(client, alice, timeframe="5m"))["bars"] == FIVE_MINUTE_BARS

    def test_unauthenticated_is_401(self, client: TestClient) -> None:
        response = client.get("/api/bars", params={"symbol": "MESZ3", "timeframe": "1m"})
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"

    def test_unknown_symbol_is_404(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.get("/api/bars", params={"symbol": "NQZ3", "timeframe": "1m"},
                              headers=alice)  # fmt: skip
        assert response.status_code == 404
        assert response.json()["detail"] == "symbol: no bars of 'NQZ3' are stored"


class TestInvalidQueries:
    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"timeframe": "5x"}, "timeframe: must be a positive number and a unit s, m, h or d"),
            ({"timeframe": "0m"}, "timeframe: must be a positive number"),
            ({"timeframe": "1m", "start": "2023-12-15T10:00:00"}, "start: '2023-12-15T10:00:00' has no UTC offset"),
            ({"timeframe": "1m", "end": "1702650600"}, "end: 1702650600 looks like epoch seconds"),
            ({"timeframe": "1m", "start": "2023-12-15T10:00:00Z", "end": "2023-12-15T10:00:00Z"},
             "end: must be after start"),
            ({"timeframe": "1m", "limit": 0}, "query.limit: "),
            ({"timeframe": "1m", "limit": 50_001}, "query.limit: "),
            ({"timeframe": "1m", "format": "csv"}, "query.format: "),
        ],
    )  # fmt: skip
    def test_bad_queries_are_422_naming_the_field(
        self, client: TestClient, alice: dict[str, str], params: dict[str, Any], detail: str
    ) -> None:
        ingest(client, alice, minute_bars("2023-12-15T14:30:00Z", 1))
        response = get_bars(client, alice, **params)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_payload"
        assert response.json()["detail"].startswith(detail)

    def test_missing_timeframe_is_422(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.get("/api/bars", params={"symbol": "MESZ3"}, headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"] == "query.timeframe: Field required"
