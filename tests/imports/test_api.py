"""/api/imports over HTTP on SQLite and PostgreSQL: preview, confirm, re-import, ownership."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import create_api_key
from tests.imports.helpers import GENERIC_MAPPING, sample
from tests.ingest.helpers import app_context

MIB = 1024 * 1024


def upload(client: TestClient, headers: dict[str, str], name: str, data: bytes | None = None,
           **params: str) -> httpx.Response:  # fmt: skip
    response: httpx.Response = client.post(
        "/api/imports", params={"filename": name, **params},
        content=sample(name) if data is None else data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )  # fmt: skip
    return response


def staged(client: TestClient, headers: dict[str, str], name: str, **params: str) -> dict[str, Any]:
    response = upload(client, headers, name, None, **params)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def confirm(client: TestClient, headers: dict[str, str], import_id: int,
            **body: Any) -> dict[str, Any]:  # fmt: skip
    response = client.post(f"/api/imports/{import_id}/confirm", json=body, headers=headers)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 30
    while True:
        status: dict[str, Any] = client.get(f"/api/imports/{import_id}", headers=headers).json()
        if status["state"] != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def trades(client: TestClient, headers: dict[str, str], run_id: int) -> list[tuple[Any, ...]]:
    assert app_context(client).ingest.derivations.wait_idle()
    items = client.get(f"/api/runs/{run_id}/trades", headers=headers).json()["items"]
    return sorted((t["symbol"], t["direction"], t["qty"], t["entry_price"], t["exit_price"],
                   t["net_pnl"]) for t in items)  # fmt: skip


class TestFormats:
    def test_lists_every_format(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.get("/api/imports/formats", headers=alice)
        assert response.status_code == 200
        assert [f["id"] for f in response.json()] == [
            "ibkr_flex_xml", "ibkr_flex_csv", "ninjatrader8", "tradovate_fills",
            "tradovate_orders", "quantower", "metatrader5", "thinkorswim", "tradestation",
            "generic_csv",
        ]  # fmt: skip

    def test_needs_credentials(self, client: TestClient) -> None:
        assert client.get("/api/imports/formats").status_code == 401
        assert upload(client, {}, "ibkr_trades.xml").status_code == 401


class TestPreviewAndConfirm:
    def test_ibkr_preview_confirm_and_trades(self, client: TestClient, alice: dict[str, str]) -> None:
        preview = staged(client, alice, "ibkr_trades.xml")
        assert (preview["format"], preview["detected"], preview["tz"]) == (
            "ibkr_flex_xml", True, "America/New_York")
        assert (preview["rows_total"], preview["fills_total"], preview["skipped_total"],
                preview["duplicates_total"]) == (6, 4, 2, 0)  # fmt: skip
        assert preview["fills"][0] == {
            "row": 1, "execution_id": "ibkr:0000e0d5.657c3b1a.01.01",
            "time": "2023-12-15T14:30:01Z", "symbol": "MESZ3", "side": "buy", "qty": 2.0,
            "price": 4700.25, "commission": 1.24, "account": "U1234567",
        }  # fmt: skip
        assert preview["instruments"] == [
            {"symbol": "MESZ3", "action": "create", "multiplier": 5.0, "tick_size": None,
             "currency": "USD", "warning": None},
            {"symbol": "SPY 231215C00470000", "action": "create", "multiplier": 100.0,
             "tick_size": None, "currency": "USD", "warning": None},
        ]  # fmt: skip
        assert preview["skipped"] == [
            {"row": 5, "reason": "levelOfDetail ORDER: not an execution"},
            {"row": 6, "reason": "a cancelled trade (Ca.)"}]  # fmt: skip
        assert (preview["needs_mapping"], preview["needs_tz"]) == (False, False)

        status = confirm(client, alice, preview["id"], new_run={"name": "IB history"})
        assert status["state"] == "done", status
        summary = status["summary"]
        assert {k: summary[k] for k in ("stored", "duplicates", "refused_total",
                                        "trades_rebuilt")} == {
            "stored": 4, "duplicates": 0, "refused_total": 0, "trades_rebuilt": 2}  # fmt: skip
        assert status["progress"] == {"done": 4, "total": 4}
        run_id = summary["run_id"]
        assert trades(client, alice, run_id) == [
            ("MESZ3", "long", 2.0, 4700.25, 4702.5, 20.02),  # 2.25 x 2 x 5 - 2.48
            ("SPY 231215C00470000", "long", 1.0, 1.25, 1.75, 48.68),  # 0.5 x 100 - 1.32
        ]  # fmt: skip
        run = client.get(f"/api/runs/{run_id}", headers=alice).json()
        assert run["strategy"]["name"] == "IB history"

        # The same file again stores nothing; the CSV export of an overlapping period adds
        # only its one new execution, into the same run.
        again = staged(client, alice, "ibkr_trades.xml")
        assert (again["fills_total"], again["duplicates_total"]) == (0, 4)
        assert again["instruments"][0]["action"] == "unchanged"
        repeat = confirm(client, alice, again["id"], run_id=run_id)["summary"]
        assert (repeat["stored"], repeat["duplicates"]) == (0, 4)
        overlap = staged(client, alice, "ibkr_trades.csv")
        assert (overlap["fills_total"], overlap["duplicates_total"]) == (1, 4)
        assert overlap["duplicates"][0] == {"row": 2, "execution_id": "ibkr:0000e0d5.657c3b1a.01.01"}
        added = confirm(client, alice, overlap["id"], run_id=run_id)["summary"]
        assert (added["stored"], added["duplicates"], added["run_id"]) == (1, 4, run_id)
        assert len(trades(client, alice, run_id)) == 3  # the new buy opens a trade

        history = client.get("/api/imports", headers=alice).json()
        assert [(h["id"], h["state"]) for h in history] == [
            (overlap["id"], "done"), (again["id"], "done"), (preview["id"], "done")]

    def test_local_times_wait_for_a_zone(self, client: TestClient, alice: dict[str, str]) -> None:
        preview = staged(client, alice, "ninjatrader8.csv")
        assert (preview["format"], preview["needs_tz"], preview["fills_total"]) == (
            "ninjatrader8", True, 0)
        refused = client.post(f"/api/imports/{preview['id']}/confirm", json={}, headers=alice)
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            f"tz: NinjaTrader 8 executions times need a time zone (PATCH /api/imports/"
            f"{preview['id']} with tz)")
        bad = client.patch(f"/api/imports/{preview['id']}", json={"tz": "Mars/Olympus"},
                           headers=alice)  # fmt: skip
        assert bad.status_code == 422
        assert bad.json()["detail"] == ("tz: unknown time zone 'Mars/Olympus' (an IANA name "
                                        "such as America/New_York)")  # fmt: skip
        fixed = client.patch(f"/api/imports/{preview['id']}", json={"tz": "America/Chicago"},
                             headers=alice).json()  # fmt: skip
        assert (fixed["needs_tz"], fixed["fills_total"], fixed["tz"]) == (False, 5,
                                                                          "America/Chicago")
        assert fixed["fills"][3]["time"] == "2023-12-18T20:05:00Z"
        assert [(i["symbol"], i["multiplier"]) for i in fixed["instruments"]] == [
            ("MES 12-23", 5.0), ("NQ 03-24", 20.0)]  # from the futures roots' contract specs
        status = confirm(client, alice, fixed["id"], account="sim-imported")
        assert status["summary"]["stored"] == 5
        run_id = status["summary"]["run_id"]
        fills = client.get(f"/api/runs/{run_id}/executions", headers=alice).json()["items"]
        assert {f["account"] for f in fills} == {"sim-imported"}

    def test_unknown_multiplier_is_a_warning(self, client: TestClient, alice: dict[str, str]) -> None:
        preview = staged(client, alice, "mt5_report.html", tz="Europe/Athens")
        (eurusd,) = preview["instruments"]
        assert (eurusd["action"], eurusd["multiplier"]) == ("create", None)
        assert eurusd["warning"] == (
            "multiplier unknown: the file does not say it and EURUSD is not in your "
            "instruments; its trades are priced at 1 until you set it (PATCH "
            "/api/instruments/EURUSD)")
        assert eurusd["warning"] in preview["warnings"]

    def test_generic_mapping_identical_rows_and_dst_gap(self, client: TestClient,
                                                        alice: dict[str, str]) -> None:  # fmt: skip
        preview = staged(client, alice, "generic.csv")
        assert (preview["format"], preview["needs_mapping"], preview["detected"]) == (
            "generic_csv", True, False)
        assert preview["columns"] == ["When", "Ticker", "Side", "Contracts", "Fill", "Fees", "Acct"]
        mapped = client.put(f"/api/imports/{preview['id']}/mapping", headers=alice, json={
            "mapping": GENERIC_MAPPING, "tz": "America/New_York", "save_as": "my broker"})
        assert mapped.status_code == 200, mapped.text
        body = mapped.json()
        assert (body["needs_mapping"], body["fills_total"], body["mapping"]["qty"]) == (
            False, 3, "Contracts")
        assert body["skipped"] == [{"row": 4, "reason": "time: 2024-03-10 02:30:00 does not "
                                    "exist in America/New_York (the clocks skipped it at a DST "
                                    "change)"}]  # fmt: skip
        saved = client.get("/api/imports/mappings", headers=alice).json()
        assert saved == [{"name": "my broker", "mapping": {**GENERIC_MAPPING, "execution_id": None,
                          "order_id": None}, "tz": "America/New_York", "date_format": None}]  # fmt: skip
        summary = confirm(client, alice, preview["id"])["summary"]
        assert (summary["stored"], summary["duplicates"]) == (3, 0)  # both identical rows kept
        again = staged(client, alice, "generic.csv")
        remapped = client.put(f"/api/imports/{again['id']}/mapping", headers=alice, json={
            "mapping": GENERIC_MAPPING, "tz": "America/New_York"}).json()
        assert (remapped["fills_total"], remapped["duplicates_total"]) == (0, 3)
        assert client.delete("/api/imports/mappings/my broker", headers=alice).status_code == 204
        assert client.get("/api/imports/mappings/my broker", headers=alice).status_code == 404

    def test_a_file_cut_short_is_422_with_its_line(self, client: TestClient,
                                                   alice: dict[str, str]) -> None:  # fmt: skip
        data = sample("ninjatrader8.csv")
        response = upload(client, alice, "ninjatrader8.csv", data[: data.index(b"$0.62") - 3],
                          tz="America/Chicago")  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "ninjatrader8.csv is not a readable NinjaTrader 8 executions file: line 3: 10 cells, "
            "the header has 14 (is the file cut short?)")
        assert client.get("/api/imports", headers=alice).json() == []

    def test_discard_removes_the_file(self, client: TestClient, alice: dict[str, str]) -> None:
        preview = staged(client, alice, "quantower.csv", tz="America/New_York")
        folder = app_context(client).settings.data_dir / "imports" / "1"
        assert [p.name for p in folder.iterdir()] == [f"{preview['id']}.upload"]
        assert client.delete(f"/api/imports/{preview['id']}", headers=alice).status_code == 204
        assert list(folder.iterdir()) == []
        assert client.get(f"/api/imports/{preview['id']}", headers=alice).status_code == 404


class TestLimitsAndOwnership:
    def test_over_64_mib_is_413_naming_the_limit(self, client: TestClient,
                                                 alice: dict[str, str]) -> None:  # fmt: skip
        response = upload(client, alice, "big.csv", b"x" * (64 * MIB + 1))
        assert response.status_code == 413
        assert response.json()["detail"] == (
            "the body is 67108865 bytes; POST /api/imports takes at most 67108864 bytes")

    def test_a_key_needs_the_ingest_scope(self, client: TestClient, alice: dict[str, str]) -> None:
        reader = {"Authorization": f"Bearer {create_api_key(client, alice, scopes=('read',))}"}
        assert upload(client, reader, "ibkr_trades.xml").status_code == 403
        writer = {"Authorization": f"Bearer {create_api_key(client, alice, scopes=('ingest',))}"}
        assert upload(client, writer, "ibkr_trades.xml").status_code == 201

    def test_another_users_import_is_404(self, client: TestClient, alice: dict[str, str],
                                         bob: dict[str, str]) -> None:  # fmt: skip
        import_id = staged(client, alice, "ibkr_trades.xml")["id"]
        base = f"/api/imports/{import_id}"
        answers = [
            client.get(base, headers=bob), client.get(f"{base}/preview", headers=bob),
            client.patch(base, json={"tz": "UTC"}, headers=bob),
            client.put(f"{base}/mapping", json={"mapping": GENERIC_MAPPING}, headers=bob),
            client.post(f"{base}/confirm", json={}, headers=bob),
            client.delete(base, headers=bob),
        ]  # fmt: skip
        assert [a.status_code for a in answers] == [404] * 6
        assert answers[0].json()["detail"] == f"import {import_id} not found"
        assert client.get("/api/imports", headers=bob).json() == []
        # nor may alice put fills into bob's run
        bob_run = confirm(client, bob, staged(client, bob, "quantower.csv",
                                              tz="America/New_York")["id"])["summary"]["run_id"]  # fmt: skip
        refused = client.post(f"{base}/confirm", json={"run_id": bob_run}, headers=alice)
        assert refused.status_code == 404
        assert refused.json()["detail"] == f"run {bob_run} not found"
        assert client.get(base, headers=alice).json()["state"] == "staged"

    def test_confirm_twice_is_409(self, client: TestClient, alice: dict[str, str]) -> None:
        import_id = staged(client, alice, "ibkr_trades.xml")["id"]
        assert confirm(client, alice, import_id)["state"] == "done"
        again = client.post(f"/api/imports/{import_id}/confirm", json={}, headers=alice)
        assert again.status_code == 409
        assert again.json()["detail"] == (f"import {import_id} is done, not staged: it can no "
                                          "longer be previewed or changed")  # fmt: skip
