"""Each format's sample file gives exactly these fills (times in UTC, ids, amounts)."""

from __future__ import annotations

import pytest

from backend.imports import formats
from backend.imports.model import FileError, Mapping
from tests.imports.helpers import GENERIC_MAPPING, detected, read, rows, sample

IBKR_FILLS = [
    ("ibkr:0000e0d5.657c3b1a.01.01", "2023-12-15T14:30:01Z", "MESZ3", "buy", 2.0, 4700.25,
     1.24, "U1234567"),
    ("ibkr:0000e0d5.657c4d02.01.01", "2023-12-15T15:15:30Z", "MESZ3", "sell", 2.0, 4702.5,
     1.24, "U1234567"),
    ("ibkr:0000f1a2.657c3e9b.02.01", "2023-12-15T15:00:00Z", "SPY 231215C00470000", "buy",
     1.0, 1.25, 0.65, "U1234567"),
    ("ibkr:0000f1a2.657c4c1f.02.01", "2023-12-15T16:00:00Z", "SPY 231215C00470000", "sell",
     1.0, 1.75, 0.67, "U1234567"),
]  # fmt: skip


class TestDetection:
    @pytest.mark.parametrize(("name", "format_id"), [
        ("ibkr_trades.xml", "ibkr_flex_xml"), ("ibkr_trades.csv", "ibkr_flex_csv"),
        ("ninjatrader8.csv", "ninjatrader8"), ("tradovate_fills.csv", "tradovate_fills"),
        ("tradovate_orders.csv", "tradovate_orders"), ("quantower.csv", "quantower"),
        ("mt5_report.html", "metatrader5"), ("thinkorswim.csv", "thinkorswim"),
        ("tradestation.csv", "tradestation"), ("generic.csv", None),
    ])  # fmt: skip
    def test_each_sample_is_recognised(self, name: str, format_id: str | None) -> None:
        assert detected(name) == format_id


class TestInteractiveBrokers:
    def test_xml_executions_in_eastern_time(self) -> None:
        parsed, fills, skipped = read(sample("ibkr_trades.xml"), "ibkr_flex_xml")
        assert [r[1:] for r in rows(fills)] == IBKR_FILLS
        assert [r[0] for r in rows(fills)] == [1, 2, 3, 4]
        assert skipped == [(5, "levelOfDetail ORDER: not an execution"),
                           (6, "a cancelled trade (Ca.)")]  # fmt: skip
        assert parsed.instruments["MESZ3"].multiplier == 5.0
        option = parsed.instruments["SPY 231215C00470000"]
        assert (option.multiplier, option.asset_class, option.currency) == (100.0, "option", "USD")

    def test_csv_gives_the_same_ids_as_xml(self) -> None:
        _, fills, skipped = read(sample("ibkr_trades.csv"), "ibkr_flex_csv")
        assert [r[1:] for r in rows(fills)][:4] == IBKR_FILLS
        assert rows(fills)[4] == (6, "ibkr:0000e0d5.657c6a00.01.01", "2023-12-15T19:30:00Z",
                                  "MESZ3", "buy", 1.0, 4705.0, 0.62, "U1234567")  # fmt: skip
        assert skipped == []

    def test_a_truncated_xml_is_refused_as_a_file(self) -> None:
        data = sample("ibkr_trades.xml")
        with pytest.raises(FileError, match="cannot be read: .*line"):
            read(data[: len(data) // 2], "ibkr_flex_xml")

    def test_entities_are_refused(self) -> None:
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><FlexQueryResponse/>'
        with pytest.raises(FileError, match="DOCTYPE or entities"):
            read(bomb, "ibkr_flex_xml")


class TestNinjaTrader:
    def test_executions_in_the_given_zone(self) -> None:
        parsed, fills, skipped = read(sample("ninjatrader8.csv"), "ninjatrader8", "America/Chicago")
        assert rows(fills) == [
            (2, "ninjatrader8:b4c0a1d2e3f44a5b8c9d0e1f2a3b4c5d", "2023-12-15T14:30:01Z",
             "MES 12-23", "buy", 2.0, 4700.25, 1.24, "Sim101"),
            (3, "ninjatrader8:c5d1b2e3f4a54b6c9d0e1f2a3b4c5d6e", "2023-12-15T15:15:30Z",
             "MES 12-23", "sell", 1.0, 4702.5, 0.62, "Sim101"),
            (4, "ninjatrader8:d6e2c3f4a5b65c7d0e1f2a3b4c5d6e7f", "2023-12-15T15:15:31Z",
             "MES 12-23", "sell", 1.0, 4703.0, 0.62, "Sim101"),
            (5, "ninjatrader8:e7f3d4a5b6c76d8e1f2a3b4c5d6e7f80", "2023-12-18T20:05:00Z",
             "NQ 03-24", "sell", 1.0, 16850.75, 2.09, "Sim101"),
            (6, "ninjatrader8:f8a4e5b6c7d87e9f2a3b4c5d6e7f8091", "2023-12-18T20:45:10Z",
             "NQ 03-24", "buy", 1.0, 16840.25, 2.09, "Sim101"),
        ]  # fmt: skip
        assert skipped == []
        assert parsed.instruments["NQ 03-24"].multiplier is None  # the file does not say

    def test_a_bad_row_names_its_line(self) -> None:
        data = sample("ninjatrader8.csv").replace(b"12/15/2023 9:15:30 AM", b"15/32/2023 9:15")
        _, fills, skipped = read(data, "ninjatrader8", "America/Chicago")
        assert len(fills) == 4
        assert skipped == [(3, "Time: cannot read '15/32/2023 9:15' as a time (expected like "
                               "01/31/2024 02:05:09 PM)")]  # fmt: skip

    def test_a_file_cut_short_is_refused_with_its_line(self) -> None:
        data = sample("ninjatrader8.csv")
        cut = data[: data.index(b"$0.62") - 3]
        with pytest.raises(FileError, match=r"^line 3: 10 cells, the header has 14"):
            read(cut, "ninjatrader8", "America/Chicago")


class TestTradovate:
    def test_fills_use_the_utc_timestamp_and_fill_ids(self) -> None:
        parsed, fills, skipped = read(sample("tradovate_fills.csv"), "tradovate_fills")
        assert rows(fills) == [
            (2, "tradovate-fill:221453187", "2023-12-15T14:30:01.123000Z", "MESZ3", "buy", 2.0,
             4700.25, 1.04, "DEMO123456"),
            (3, "tradovate-fill:221460002", "2023-12-15T15:15:30.456000Z", "MESZ3", "sell",
             2.0, 4702.5, 1.04, "DEMO123456"),
        ]  # fmt: skip
        assert skipped == []
        assert parsed.instruments["MESZ3"].tick_size == 0.25

    def test_orders_give_one_fill_per_filled_order(self) -> None:
        parsed, fills, skipped = read(sample("tradovate_orders.csv"), "tradovate_orders",
                                      "America/New_York")  # fmt: skip
        assert rows(fills) == [
            (2, "tradovate-order:221453150", "2023-12-15T14:30:01Z", "MESZ3", "buy", 2.0,
             4700.25, 0.0, "DEMO123456"),
            (3, "tradovate-order:221459990", "2023-12-15T15:15:30Z", "MESZ3", "sell", 2.0,
             4702.5, 0.0, "DEMO123456"),
        ]  # fmt: skip
        assert skipped == [(4, "order status 'Canceled': not filled")]
        assert "no commissions" in parsed.warnings[0]


class TestQuantower:
    def test_trades_with_fees_as_costs(self) -> None:
        _, fills, skipped = read(sample("quantower.csv"), "quantower", "America/New_York")
        assert rows(fills) == [
            (2, "quantower:7461823001", "2023-12-15T14:30:01Z", "MESZ3", "buy", 2.0, 4700.25,
             0.74, "APEX-41234-01"),
            (3, "quantower:7461830442", "2023-12-15T15:15:30Z", "MESZ3", "sell", 2.0, 4702.5,
             0.74, "APEX-41234-01"),
        ]  # fmt: skip
        assert skipped == []


class TestMetaTrader5:
    def test_deals_of_the_html_report(self) -> None:
        parsed, fills, skipped = read(sample("mt5_report.html"), "metatrader5", "Europe/Athens")
        assert rows(fills) == [
            (7, "metatrader5:1000142", "2023-12-15T14:30:01Z", "EURUSD", "buy", 0.1, 1.09412,
             0.35, "123456789"),
            (8, "metatrader5:1000149", "2023-12-15T15:45:12Z", "EURUSD", "sell", 0.1, 1.09507,
             0.4, "123456789"),
        ]  # fmt: skip
        assert skipped == [(6, "deal type 'balance': not a trade")]
        assert parsed.instruments["EURUSD"].multiplier is None


class TestThinkorswim:
    def test_trade_history_oldest_first_with_matched_commissions(self) -> None:
        parsed, fills, skipped = read(sample("thinkorswim.csv"), "thinkorswim", "America/New_York")
        assert [r[2:] for r in rows(fills)] == [
            ("2023-12-15T14:30:01Z", "AAPL", "buy", 100.0, 197.1, 0.0, ""),
            ("2023-12-15T15:00:00Z", "SPY 231215C470", "buy", 1.0, 1.25, 0.67, ""),
            ("2023-12-15T15:30:00Z", "MESZ23", "buy", 1.0, 4700.25, 1.2, ""),
            ("2023-12-15T15:45:00Z", "MESZ23", "sell", 1.0, 4702.5, 1.2, ""),
            ("2023-12-15T16:00:00Z", "SPY 231215C470", "sell", 1.0, 1.75, 0.68, ""),
            ("2023-12-15T20:59:00Z", "AAPL", "sell", 100.0, 197.6, 0.01, ""),
        ]  # fmt: skip
        assert [r[0] for r in rows(fills)] == [24, 23, 22, 21, 20, 19]
        assert all(f.execution_id.startswith("thinkorswim:row:") for f in fills)
        assert skipped == []
        assert parsed.instruments["SPY 231215C470"].multiplier == 100.0

    def test_ids_are_the_same_on_every_read(self) -> None:
        first = [f.execution_id for f in read(sample("thinkorswim.csv"), "thinkorswim",
                                              "America/New_York")[1]]  # fmt: skip
        again = [f.execution_id for f in read(sample("thinkorswim.csv"), "thinkorswim",
                                              "America/New_York")[1]]  # fmt: skip
        assert first == again
        assert len(set(first)) == 6


class TestTradeStation:
    def test_filled_orders_at_their_fill_time(self) -> None:
        _, fills, skipped = read(sample("tradestation.csv"), "tradestation", "America/New_York")
        assert rows(fills) == [
            (3, "tradestation:1-2345-6789", "2023-12-15T14:30:01Z", "MESZ23", "buy", 2.0,
             4700.25, 1.5, "11223344"),
            (4, "tradestation:1-2345-6801", "2023-12-15T15:15:30Z", "MESZ23", "sell", 2.0,
             4702.5, 1.5, "11223344"),
        ]  # fmt: skip
        assert skipped == [(5, "order status 'Canceled': not filled")]


class TestGenericMapper:
    def test_identical_rows_are_two_fills_and_a_dst_gap_is_refused(self) -> None:
        _, fills, skipped = read(sample("generic.csv"), "generic_csv", "America/New_York",
                                 Mapping(GENERIC_MAPPING))  # fmt: skip
        assert [r[2:] for r in rows(fills)] == [
            ("2024-03-08T20:59:00Z", "MESH4", "buy", 1.0, 5150.25, 0.62, "paper-1"),
            ("2024-03-08T20:59:00Z", "MESH4", "buy", 1.0, 5150.25, 0.62, "paper-1"),
            ("2024-03-11T13:31:00Z", "MESH4", "sell", 2.0, 5162.5, 1.24, "paper-1"),
        ]  # fmt: skip
        first, second = fills[0].execution_id, fills[1].execution_id
        assert first.endswith(":1")
        assert second == first[:-2] + ":2"
        assert skipped == [(4, "time: 2024-03-10 02:30:00 does not exist in America/New_York "
                               "(the clocks skipped it at a DST change)")]  # fmt: skip

    def test_an_ambiguous_time_takes_the_pass_that_keeps_the_order(self) -> None:
        data = (b"When,Ticker,Side,Contracts,Fill\n2024-11-03 01:50:00,ES,buy,1,5000\n"
                b"2024-11-03 01:10:00,ES,sell,1,5001\n2024-11-03 01:20:00,ES,buy,1,5002\n")
        mapping = Mapping({"time": "When", "symbol": "Ticker", "side": "Side",
                           "qty": "Contracts", "price": "Fill"})  # fmt: skip
        _, fills, skipped = read(data, "generic_csv", "America/New_York", mapping)
        assert [f.time for f in fills] == ["2024-11-03T05:50:00Z", "2024-11-03T06:10:00Z",
                                           "2024-11-03T06:20:00Z"]  # fmt: skip
        assert skipped == []

    def test_without_a_mapping_only_the_columns_are_read(self) -> None:
        parsed = formats.GENERIC.parse(sample("generic.csv"), None)
        assert parsed.columns == ["When", "Ticker", "Side", "Contracts", "Fill", "Fees", "Acct"]
        assert parsed.fills == []

    def test_a_value_the_contract_refuses_is_a_skipped_row(self) -> None:
        data = b"When,Ticker,Side,Contracts,Fill\n2024-01-02T10:00:00Z,ES,buy,0,5000\n"
        mapping = Mapping({"time": "When", "symbol": "Ticker", "side": "Side",
                           "qty": "Contracts", "price": "Fill"})  # fmt: skip
        _, fills, skipped = read(data, "generic_csv", None, mapping)
        assert fills == []
        assert skipped == [(2, "qty: must be greater than 0")]
