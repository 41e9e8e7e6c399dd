"""`fillbook-export import FILE`: a broker statement through the server's import API.

    fillbook-export import trades.xml --url URL --api-key KEY [--format ID] [--tz IANA]
        [--run-id N | --run NAME] [--account A] [--yes]

The server parses the file (the same parsers as the dashboard's import page, see the
server's docs/imports.md): this uploads it, prints the preview (format, fills, the
instruments it creates or updates, skipped rows, duplicates, warnings), asks before it
stores anything (unless `--yes`), confirms, and follows the progress to the summary.
Exit status: 0 done, 1 the import failed or the server refused, 2 bad arguments or a
preview that cannot be confirmed (a generic CSV without a mapping, a zone missing),
3 declined.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

POLL_SECONDS = 0.2


def _say(text: str, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _problem(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    return f"{response.status_code}: {detail}"


def print_preview(preview: dict[str, Any]) -> None:
    _say(f"{preview['filename']}: {preview['format_label']}"
         f"{' (detected)' if preview['detected'] else ''}, times in {preview['tz'] or 'UTC'}")
    _say(f"  {preview['rows_total']} rows: {preview['fills_total']} new fills, "
         f"{preview['duplicates_total']} already stored, {preview['skipped_total']} skipped")
    for fill in preview["fills"][:10]:
        _say(f"  row {fill['row']}: {fill['time']} {fill['side']} {fill['qty']:g} "
             f"{fill['symbol']} @ {fill['price']:g} (commission {fill['commission']:g})")
    for item in preview["instruments"]:
        multiplier = "unknown" if item["multiplier"] is None else f"{item['multiplier']:g}"
        _say(f"  instrument {item['symbol']}: {item['action']}, multiplier {multiplier}")
    for skip in preview["skipped"][:20]:
        _say(f"  skipped row {skip['row']}: {skip['reason']}")
    for warning in preview["warnings"]:
        _say(f"  warning: {warning}")


def command_import(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get("FILLBOOK_API_KEY")
    if not api_key:
        _say("an API key is needed: --api-key or $FILLBOOK_API_KEY", err=True)
        return 2
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _say(f"cannot read {path}: {exc.strerror}", err=True)
        return 2
    params = {"filename": path.name}
    if args.format:
        params["format"] = args.format
    if args.tz:
        params["tz"] = args.tz
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=120.0) as http:
        response = http.post("/api/imports", params=params, content=data,
                             headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 201:
            _say(f"the server refused the file: {_problem(response)}", err=True)
            return 1
        preview = response.json()
        print_preview(preview)
        if preview["needs_mapping"] or preview["needs_tz"]:
            what = "a column mapping (use the import page)" if preview["needs_mapping"] else "--tz"
            _say(f"nothing stored: this file needs {what}", err=True)
            http.delete(f"/api/imports/{preview['id']}")
            return 2
        if not args.yes:
            answer = input(f"store {preview['fills_total']} fills? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                http.delete(f"/api/imports/{preview['id']}")
                _say("nothing stored")
                return 3
        body: dict[str, Any] = {}
        if args.run_id is not None:
            body["run_id"] = args.run_id
        elif args.run:
            body["new_run"] = {"name": args.run, "mode": args.mode}
        if args.account:
            body["account"] = args.account
        response = http.post(f"/api/imports/{preview['id']}/confirm", json=body)
        if response.status_code != 202:
            _say(f"the server refused to confirm: {_problem(response)}", err=True)
            return 1
        status = _follow(http, preview["id"], response.json(), args.quiet)
    if status["state"] != "done":
        _say(f"the import failed: {status['error']}", err=True)
        return 1
    summary = status["summary"]
    _say(f"stored {summary['stored']} fills in run {summary['run_id']}, "
         f"{summary['duplicates']} duplicates, {summary['refused_total']} refused, "
         f"{summary['trades_rebuilt']} trades rebuilt")
    for refused in summary["refused"][:20]:
        _say(f"  refused row {refused['row']}: {refused['reason']}", err=True)
    return 0


def _follow(http: httpx.Client, import_id: int, status: dict[str, Any],
            quiet: bool) -> dict[str, Any]:  # fmt: skip
    with tqdm(total=status["progress"]["total"], unit="fill", desc="stored",
              disable=quiet) as bar:  # fmt: skip
        while status["state"] == "running":
            time.sleep(POLL_SECONDS)
            response = http.get(f"/api/imports/{import_id}")
            response.raise_for_status()
            status = response.json()
            bar.update(status["progress"]["done"] - bar.n)
    return status


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("import", help="import a broker statement via the server")
    parser.add_argument("file")
    parser.add_argument("--format", help="a format id (GET /api/imports/formats); default: "
                                         "detected")
    parser.add_argument("--tz", help="IANA time zone of the file's wall-clock times")
    run = parser.add_mutually_exclusive_group()
    run.add_argument("--run-id", type=int, help="put the fills into this existing run")
    run.add_argument("--run", help="put the fills into a new run of this name")
    parser.add_argument("--mode", choices=("live", "paper", "backtest"), default="live")
    parser.add_argument("--account", help="the account of every fill (default: the file's)")
    parser.add_argument("--yes", action="store_true", help="store without asking")
    parser.add_argument("--url", default=os.environ.get("FILLBOOK_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", help="default $FILLBOOK_API_KEY")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=command_import)
