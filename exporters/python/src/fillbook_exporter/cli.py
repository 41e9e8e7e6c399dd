"""`fillbook-export`: import a CSV of fills through the spool, or show what a spool holds.

    fillbook-export csv fills.csv --url URL --api-key KEY --source S --run-key K \\
        [--map Column=field ...] [--tz Europe/Berlin] [--ambiguous order] [--strategy NAME]
        [--mode live]
    fillbook-export status [--spool FILE ...]
    fillbook-export import FILE [--format ID] [--tz IANA] [--run-id N | --run NAME] [--yes]

`csv` reads the whole file first and refuses it (exit 2, nothing spooled) if any
row lacks a field or holds a value the service would refuse (fillbook_exporter/
domain.py), so a fixed file can be imported again. Rows become `execution` events;
without an `id` column the ids are derived from the row's content, so importing the
same file twice stores nothing new.

Times without an offset are wall-clock times of `--tz`, read across DST changes as
fillbook_exporter/localtime.py says: a time the clocks skipped is a bad row, and a
time of the repeated hour is, by default (`--ambiguous order`), the pass that keeps
the file in time order (02:30, 02:45, 02:15 makes the 02:15 the second pass).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tqdm import tqdm

from fillbook_exporter import domain, importer
from fillbook_exporter.exporter import Exporter, default_spool_path
from fillbook_exporter.localtime import AMBIGUOUS_RULES, Ambiguous, LocalClock, LocalTimeError
from fillbook_exporter.sender import ExporterError
from fillbook_exporter.spool import Spool

FIELDS = ("ts", "symbol", "side", "qty", "price", "id", "order_id", "commission", "account",
          "liquidity")
REQUIRED = ("ts", "symbol", "qty", "price")
NUMBERS = ("qty", "price", "commission")
SIDES = {"buy": "buy", "b": "buy", "bot": "buy", "sell": "sell", "s": "sell", "sld": "sell"}
GROUP_ROWS = 5_000


def _say(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")


class RowError(ValueError):
    """A CSV row that cannot become an execution event."""


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """`Column=field` pairs → {field: column}; fields not mapped use a column of their name."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column or field not in FIELDS:
            raise SystemExit(f"--map expects COLUMN=FIELD with FIELD one of {', '.join(FIELDS)}, "
                             f"got {pair!r}")
        mapping[field] = column
    return mapping


def parse_ts(text: str, clock: LocalClock | None, time_format: str | None) -> dt.datetime:
    """An ISO-8601 (or `time_format`) time as aware UTC; naive ones are read on `clock`.

    `clock` reads the file's times in order, so a time of a repeated DST hour gets
    the pass that keeps the order (or the pass `--ambiguous` names).
    """
    value = text.strip()
    try:
        when = (dt.datetime.strptime(value, time_format) if time_format  # noqa: DTZ007
                else dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise RowError(f"ts: cannot read {text!r} as a time ({exc})") from None
    if clock is None:
        if when.tzinfo is None or when.utcoffset() is None:
            raise RowError(f"ts: {text!r} has no offset; pass --tz to say where it was taken")
        instant = when.astimezone(dt.UTC)
    else:
        try:
            instant = clock(when)
        except LocalTimeError as exc:
            raise RowError(f"ts: {exc}") from None
    try:
        return domain.ts_instant(instant, "ts", shown=repr(value))
    except domain.DomainError as exc:
        raise RowError(str(exc)) from None


def row_event(
    row: dict[str, str], mapping: dict[str, str], clock: LocalClock | None,
    time_format: str | None,
) -> dict[str, Any]:
    """The execution event of one CSV row (keyword arguments of `Exporter.execution`).

    Every value is checked against the service's domain here, so a bad row is
    reported with its line instead of being refused by the service later.
    """
    values: dict[str, str] = {}
    for field in FIELDS:
        column = mapping.get(field, field)
        text = row.get(column)
        if text is not None and text.strip() != "":
            values[field] = text.strip()
    missing = [f"{field} (column {mapping.get(field, field)!r})" for field in REQUIRED
               if field not in values]
    if missing:
        raise RowError(f"missing {', '.join(missing)}")
    ts = parse_ts(values["ts"], clock, time_format)  # first: the clock sees every row's time
    event: dict[str, Any] = {key: value for key, value in values.items() if key not in NUMBERS}
    for field in NUMBERS:
        if field in values:
            try:
                event[field] = float(values[field].replace(",", ""))
            except ValueError:
                raise RowError(f"{field}: not a number: {values[field]!r}") from None
    if "side" in values:
        side = SIDES.get(values["side"].lower())
        if side is None:
            raise RowError(f"side: expected buy/sell (or b/s), got {values['side']!r}")
        event["side"] = side
    else:  # a signed quantity says the side
        event["side"] = "sell" if event["qty"] < 0 else "buy"
    event["qty"] = abs(event["qty"])
    try:
        event["qty"] = domain.positive_amount(event["qty"], "qty")
        event["price"] = domain.positive_amount(event["price"], "price")
        if "commission" in event:
            event["commission"] = domain.amount(event["commission"], "commission")
    except domain.DomainError as exc:
        raise RowError(str(exc)) from None
    event["ts"] = ts
    return event


def read_csv(
    path: Path, mapping: dict[str, str], zone: dt.tzinfo | None, time_format: str | None,
    delimiter: str, ambiguous: Ambiguous = "order",
) -> tuple[list[dict[str, Any]], list[str]]:
    """The file's execution events, or the errors of its bad rows (`line N: ...`)."""
    clock = None if zone is None else LocalClock(zone, ambiguous)
    events: list[dict[str, Any]] = []
    errors: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle, delimiter=delimiter), start=2):
            try:
                events.append(row_event(row, mapping, clock, time_format))
            except RowError as exc:
                errors.append(f"line {line}: {exc}")
    return events, errors


def command_csv(args: argparse.Namespace) -> int:
    try:
        zone = ZoneInfo(args.tz) if args.tz else None
    except ZoneInfoNotFoundError:
        _say(f"--tz: unknown time zone {args.tz!r}", err=True)
        return 2
    api_key = args.api_key or os.environ.get("FILLBOOK_API_KEY")
    if not api_key:
        _say("an API key is needed: --api-key or $FILLBOOK_API_KEY", err=True)
        return 2
    if args.initial_capital is not None:
        try:
            domain.capital(args.initial_capital, "--initial-capital")
        except domain.DomainError as exc:
            _say(str(exc), err=True)
            return 2
    events, errors = read_csv(Path(args.file), parse_mapping(args.map), zone, args.time_format,
                              args.delimiter, args.ambiguous)
    if errors:
        _say(f"{len(errors)} rows cannot be imported; nothing was spooled:", err=True)
        for error in errors[:20]:
            _say(f"  {error}", err=True)
        return 2
    run: dict[str, Any] = {"key": args.run_key, "strategy": args.strategy, "mode": args.mode}
    if args.initial_capital is not None:
        run["initial_capital"] = args.initial_capital
    rejected: list[str] = []
    exporter = Exporter(
        args.url, api_key, args.source, run, spool_path=args.spool, fmt=args.fmt,
        on_rejected=lambda r: rejected.append(f"{r.id}: {r.error}"),
    )
    try:
        with tqdm(total=len(events), unit="fill", desc="spooled", disable=args.quiet) as bar:
            for chunk in _chunks(events, GROUP_ROWS):
                with exporter.group():
                    for event in chunk:
                        exporter.execution(**event)
                bar.update(len(chunk))
        if args.end:
            exporter.end()
        if not _wait_sent(exporter, args.timeout, args.quiet):
            _say(f"{exporter.pending()} events wait in {exporter.spool.path}; "
                  "the next fillbook-export on this spool sends them", err=True)
            return 1
    except ExporterError as exc:
        _say(f"stopped: {exc}", err=True)
        return 1
    finally:
        with contextlib.suppress(ExporterError):  # already reported above
            exporter.close(timeout=0)
    stats = exporter.stats
    _say(f"{len(events)} fills: {stats['accepted']} accepted, {stats['duplicates']} duplicates, "
          f"{stats['rejected']} rejected")
    for line in rejected[:20]:
        _say(f"  rejected {line}", err=True)
    return 0


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _wait_sent(exporter: Exporter, timeout: float, quiet: bool) -> bool:
    """Flush with a progress bar of acknowledged events; False on timeout."""
    deadline = time.monotonic() + timeout
    total = exporter.pending()
    with tqdm(total=total, unit="event", desc="sent", disable=quiet) as bar:
        while True:
            remaining = deadline - time.monotonic()
            try:
                exporter.flush(timeout=max(0.0, min(0.5, remaining)))
                bar.update(total - bar.n)
                return True
            except TimeoutError:
                bar.update(max(0, total - exporter.pending() - bar.n))
                if remaining <= 0:
                    return False


def command_status(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.spool] if args.spool else sorted(
        default_spool_path("x").parent.glob("*.spool"))
    if not paths:
        _say(f"no spool files in {default_spool_path('x').parent}")
        return 0
    for path in paths:
        if not path.exists():
            _say(f"{path}: no such spool", err=True)
            return 1
        spool = Spool(path, absorb=False)  # an exporter may be running on it
        try:
            _say(f"{path}")
            now = time.time()
            for stream in spool.status():
                age = "-" if stream.oldest_at is None else f"{now - stream.oldest_at:.0f} s"
                _say(f"  {stream.source} / {stream.run_key}: {stream.pending} pending "
                      f"(oldest {age}), {stream.rejected} rejected")
            for source, run_key, event_id, error in spool.rejected_events(args.rejected):
                _say(f"  rejected {source} / {run_key} {event_id}: {error}")
        finally:
            spool.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fillbook-export", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("csv", help="import a CSV of fills")
    imp.add_argument("file")
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                     help=f"map a CSV column to a field ({', '.join(FIELDS)})")
    imp.add_argument("--tz", help="time zone of naive times, e.g. Europe/Berlin")
    imp.add_argument("--ambiguous", choices=AMBIGUOUS_RULES, default="order",
                     help="which pass a naive time of a repeated DST hour is: 'order' (default: "
                          "the one that keeps the file in time order), 'earliest', 'latest', "
                          "or 'raise' (refuse the row)")
    imp.add_argument("--time-format", help="strptime format of the time column (default ISO)")
    imp.add_argument("--delimiter", default=",")
    imp.add_argument("--url", default=os.environ.get("FILLBOOK_URL", "http://127.0.0.1:8000"))
    imp.add_argument("--api-key", help="default $FILLBOOK_API_KEY")
    imp.add_argument("--source", default="csv")
    imp.add_argument("--run-key", required=True)
    imp.add_argument("--strategy", default="CSV import")
    imp.add_argument("--mode", choices=("live", "paper", "backtest"), default="live")
    imp.add_argument("--initial-capital", type=float)
    imp.add_argument("--end", action="store_true", help="close the run after the fills")
    imp.add_argument("--spool", help="spool file (default ~/.fillbook/spool/<source>.spool)")
    imp.add_argument("--fmt", choices=("json", "msgpack"), default="json")
    imp.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for sending")
    imp.add_argument("--quiet", action="store_true", help="no progress bars")
    imp.set_defaults(handler=command_csv)
    status = commands.add_parser("status", help="show the spool")
    status.add_argument("--spool", action="append", default=[], help="spool file(s)")
    status.add_argument("--rejected", type=int, default=10, help="latest refusals to show")
    status.set_defaults(handler=command_status)
    importer.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
