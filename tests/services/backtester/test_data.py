"""Loading 1-second CSVs: chunks, malformed rows counted by reason, sorting and duplicates."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from backend.market.resample import resample
from services.backtester.candles import make_candles
from services.backtester.data import from_arrays, load_csv, read_capped, write_csv
from services.backtester.synthetic import random_walk

MESSY = """timestamp,open,high,low,close,volume
1700000002000,10,11,9,10.5,5
1700000001000,10,11,9,10.5,5
1700000001000,12,13,9,10.5,5
1700000003000,abc,11,9,10.5,5
1700000004000,10,11,9,10.5,5,7
1700000005000,10,9,9,10.5,5
1700000006000,10,11,9
1700000007.5,10,11,9,10,1
1700000008000,10,11,9,10,-1
1700000009000,0,11,0,10,1
1700000010000,10,11,9.5,10,inf
1700000011000,10,12,9,11,3
"""


class TestLoadCsv:
    def test_cleans_sorts_and_reports(self, tmp_path: Path) -> None:
        path = tmp_path / "messy.csv"
        path.write_text(MESSY)
        bars, report = load_csv(path, chunk_rows=4)
        assert (bars.ts // 1_000_000).tolist() == [1700000001000, 1700000002000, 1700000011000]
        assert bars.open.tolist() == [10.0, 10.0, 10.0]  # the first of two equal timestamps
        assert bars.high.tolist() == [11.0, 11.0, 12.0]
        assert report.rows_read == 12
        assert report.rows_kept == 3
        assert report.duplicates == 1
        assert report.unsorted
        assert report.malformed == {
            "high/low outside open/close": 1,
            "not a number": 2,
            "price not finite and > 0": 1,
            "timestamp not Unix milliseconds": 1,
            "volume not finite and >= 0": 2,
            "wrong number of fields": 1,
        }
        assert report.dropped == 9
        assert "3 of 12 rows kept" in report.summary()

    def test_reads_files_without_a_header_in_many_chunks(self, tmp_path: Path) -> None:
        bars = random_walk(2_500, seed=3)
        path = tmp_path / "bars.csv"
        write_csv(path, bars, header=False)
        loaded, report = load_csv(path, chunk_rows=1000)
        assert report.rows_kept == 2_500
        assert not report.malformed
        assert not report.unsorted
        np.testing.assert_array_equal(loaded.ts, bars.ts)
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_allclose(getattr(loaded, name), getattr(bars, name), rtol=1e-12)

    def test_an_empty_file_loads_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.csv"
        path.write_text("timestamp,open,high,low,close,volume\n")
        bars, report = load_csv(path)
        assert len(bars) == 0
        assert report.rows_read == 0


class TestCandles:
    def test_are_the_backend_resampler_s_buckets_with_their_seconds(self) -> None:
        bars = random_walk(1_000, seed=5, start_ns=1_700_006_400_000_000_000 + 37_000_000_000)
        candles = make_candles(bars, "1m")
        expected = resample(bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume, 60)
        np.testing.assert_array_equal(candles.ts, expected["ts"])
        np.testing.assert_array_equal(candles.close, expected["close"])
        for i in range(len(candles)):
            inside = bars.ts[candles.first[i] : candles.stop[i]]
            assert np.all(inside - inside % (60 * 10**9) == candles.ts[i])
            assert candles.high[i] == bars.high[candles.first[i] : candles.stop[i]].max()
        assert candles.first[0] == 0
        assert candles.stop[-1] == len(bars)
        assert len(candles) == 18  # 23 s, 16 whole minutes, 41 s

    def test_in_memory_columns_are_sorted_and_deduplicated(self) -> None:
        bars = from_arrays([3_000_000_000_000_000_000, 2_000_000_000_000_000_000,
                            2_000_000_000_000_000_000], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3])
        assert bars.open.tolist() == [2.0, 1.0]


class TestReadCapped:
    def test_an_endless_answer_is_cut_off_at_the_limit(self) -> None:
        class Endless(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                self.send_response(500)
                self.end_headers()
                try:
                    for _ in range(10_000):  # 640 MB if nobody stopped reading
                        self.wfile.write(b"x" * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}",
                              trust_env=False) as http_client:  # fmt: skip
                with pytest.raises(RuntimeError, match="answered more than 1048576 bytes"):
                    read_capped(http_client, "/api/bars", 1024 * 1024)
        finally:
            server.shutdown()
            server.server_close()
