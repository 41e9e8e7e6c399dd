"""Ingest throughput end to end, against the raw SQLite ceiling measured in the same run.

    .venv/bin/python bench/ingest.py [--clients 4] [--batch 1000] [--seconds 10] [--iso]
                                     [--postgres [--workers N]]

Starts the real app (`run_server.py`, Uvicorn on 127.0.0.1) on a fresh SQLite
database in a temporary directory, registers a user, logs in and creates an
API key through the API. Then `--clients` concurrent clients, each on one
keep-alive connection, push `--batch`-event batches of execution events to
`POST /api/ingest` for `--seconds`: first as JSON, then as MessagePack, then
(unless `--no-replay`) the JSON batches again, which must all come back as
duplicates. Every response must be a 200 whose counts match the batch, and at
the end the database must hold exactly the executions sent.

The raw ceiling is stdlib `sqlite3` `executemany` of the same rows (the first
`--raw-rows` the JSON phase sends, as the tuples `insert_executions` gets,
`ON CONFLICT DO NOTHING`, one transaction per `--batch` rows, WAL,
synchronous=NORMAL, foreign keys on) into a fresh migrated database: once
before the server starts and `--raw-repeats` - 1 times after it stops; the
median counts. The ratio column is API events/s divided by raw rows/s: the
figure to compare between machines, which drift (performance-notes.md).

`--postgres` serves from a throwaway PostgreSQL server instead (Debian's
binaries, as the tests start it), with `--workers` Uvicorn worker processes;
the raw ceiling stays SQLite's, so the ratio column compares both databases to
the same baseline (docs/scaling.md).

Exits 1 when any request failed or the counts do not match. See
docs/benchmarks.md for results and what limits throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import math
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgpack
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_server import LiveServer  # noqa: E402
from tests.postgres_server import throwaway_database  # noqa: E402

BASE_NS = 1_702_650_600_000_000_000  # 2023-12-15T14:30:00Z
NS_PER_SECOND = 1_000_000_000
SYMBOLS = (("MESZ3", 4700.0), ("MNQZ3", 16_000.0), ("M2KZ3", 1900.0), ("MYMZ3", 37_000.0))
PHASE_IDS = {"json": "j", "msgpack": "m", "warm-up": "w"}
USERNAME = "bench"
PASSWORD = "bench password 1234"


# -- events -----------------------------------------------------------------------------


def iso_ts(ns: int) -> str:
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    base = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos // 1000:06d}Z"


def make_events(tag: str, client: int, seq: int, size: int, *, iso: bool) -> list[dict[str, Any]]:
    """Batch `seq` of `client`: round-trip fills (buy then sell) over a few futures, ~1 ms apart.

    Deterministic, so a replay regenerates exactly the batch sent before.
    """
    events: list[dict[str, Any]] = []
    first = seq * size
    for n in range(first, first + size):
        pair = n // 2
        symbol, base = SYMBOLS[pair % len(SYMBOLS)]
        qty = 1 + pair % 3
        ts = BASE_NS + n * 1_000_000 + client * 1_000
        events.append(
            {
                "type": "execution",
                "id": f"x-{tag}{client}-{n:09d}",
                "order_id": f"o-{tag}{client}-{n:09d}",
                "ts": iso_ts(ts) if iso else ts,
                "symbol": symbol,
                "side": "buy" if n % 2 == 0 else "sell",
                "qty": qty,
                "price": base + (pair * 7919 % 401) * 0.25,
                "commission": 0.37 * qty,
                "account": f"SIM-{client}",
                "liquidity": "taker" if n % 3 else "maker",
            }
        )
    return events


def make_document(tag: str, client: int, seq: int, size: int, *, iso: bool) -> dict[str, Any]:
    return {
        "source": f"bench-{client}",
        "run": {"key": f"bench-{tag}", "strategy": "Bench", "mode": "backtest"},
        "events": make_events(tag, client, seq, size, iso=iso),
    }


def encode(document: dict[str, Any], encoding: str) -> bytes:
    if encoding == "json":
        return orjson.dumps(document)
    return msgpack.packb(document)


# -- measurements -----------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    encoding: str
    expect_duplicates: bool
    latencies_ms: list[float] = field(default_factory=list)
    events: int = 0
    errors: list[str] = field(default_factory=list)
    batches_by_client: dict[int, int] = field(default_factory=dict)
    connections: set[tuple[int, Any]] = field(default_factory=set)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float | None = None
    busy_cpu_s: float | None = None  # every process on the machine, ours included

    @property
    def other_cores(self) -> float | None:
        """CPUs used by processes other than the server and this one (a busy machine skews)."""
        if self.busy_cpu_s is None or self.server_cpu_s is None or not self.wall_s:
            return None
        return max(0.0, self.busy_cpu_s - self.server_cpu_s - self.client_cpu_s) / self.wall_s

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the batch latencies, in ms."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class RawResult:
    rows: int
    insert_rows_per_s: list[float]
    replay_rows_per_s: list[float]
    other_cores: float | None = None

    @property
    def insert(self) -> float:
        return statistics.median(self.insert_rows_per_s)

    def merge(self, other: RawResult) -> RawResult:
        busy = [c for c in (self.other_cores, other.other_cores) if c is not None]
        return RawResult(
            self.rows,
            self.insert_rows_per_s + other.insert_rows_per_s,
            self.replay_rows_per_s + other.replay_rows_per_s,
            max(busy, default=None),
        )

    @property
    def replay(self) -> float:
        return statistics.median(self.replay_rows_per_s)


def machine_busy_cpu_s() -> float | None:
    """CPU seconds all processes have used since boot (Linux /proc/stat), or None."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# -- the server -------------------------------------------------------------------------


# -- the clients ------------------------------------------------------------------------

CONTENT_TYPES = {"json": "application/json", "msgpack": "application/msgpack"}


@dataclass
class ClientResult:
    """What one client saw in a phase."""

    latencies_ms: list[float] = field(default_factory=list)
    events: int = 0
    errors: list[str] = field(default_factory=list)
    batches: int = 0
    connections: set[Any] = field(default_factory=set)
    cpu_s: float = 0.0


async def one_client(
    args: argparse.Namespace,
    base_url: str,
    headers: dict[str, str],
    tag: str,
    encoding: str,
    client: int,
    replay_count: int | None,
    deadline: float,
) -> ClientResult:
    """Send batches on one keep-alive connection until `deadline` (time.monotonic())."""
    result = ClientResult()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        seq = 0
        while True:
            if replay_count is not None and seq >= replay_count:
                break
            document = make_document(tag, client, seq, args.batch, iso=args.iso)
            body = encode(document, encoding)
            sent = time.perf_counter()
            try:
                response = await http.post("/api/ingest", content=body)
            except httpx.HTTPError as exc:
                result.errors.append(f"client {client} batch {seq}: {exc!r}")
                break
            result.latencies_ms.append((time.perf_counter() - sent) * 1e3)
            stream = response.extensions.get("network_stream")
            if stream is not None:
                result.connections.add(stream.get_extra_info("client_addr"))
            problem = check_response(response, args.batch, duplicates=replay_count is not None)
            if problem:
                result.errors.append(f"client {client} batch {seq}: {problem}")
            else:
                result.events += args.batch
            seq += 1
            if time.monotonic() >= deadline:
                break
    result.batches = seq
    return result


def client_process(*job: Any) -> ClientResult:
    """One client in a process of its own (--client-processes), as exporters are."""
    cpu = time.process_time()
    result = asyncio.run(one_client(*job))
    result.cpu_s = time.process_time() - cpu
    return result


async def run_phase(
    args: argparse.Namespace,
    base_url: str,
    api_key: str,
    server: LiveServer,
    name: str,
    encoding: str,
    *,
    replay: dict[int, int] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> PhaseResult:
    """Every client sends batches until `--seconds` have passed (or, replaying, it runs out):
    each in a process of its own given a pool, else all on this process's event loop."""
    tag = PHASE_IDS["json" if replay is not None else name]
    result = PhaseResult(name, encoding, expect_duplicates=replay is not None)
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": CONTENT_TYPES[encoding]}
    seconds = args.seconds if name != "warm-up" else 0
    server_cpu = server.cpu_seconds()
    busy_cpu = machine_busy_cpu_s()
    client_cpu = time.process_time()
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    jobs = [
        (args, base_url, headers, tag, encoding, c,
         None if replay is None else replay.get(c, 0), deadline)
        for c in range(args.clients)
    ]  # fmt: skip
    if pool is None:
        clients = await asyncio.gather(*(one_client(*job) for job in jobs))
    else:
        loop = asyncio.get_running_loop()
        clients = await asyncio.gather(
            *(loop.run_in_executor(pool, client_process, *job) for job in jobs)
        )
    result.wall_s = time.perf_counter() - started
    result.client_cpu_s = time.process_time() - client_cpu + sum(c.cpu_s for c in clients)
    for client, seen in enumerate(clients):
        result.latencies_ms += seen.latencies_ms
        result.events += seen.events
        result.errors += seen.errors
        result.batches_by_client[client] = seen.batches
        result.connections |= {(client, address) for address in seen.connections}
    server_after = server.cpu_seconds()
    if server_cpu is not None and server_after is not None:
        result.server_cpu_s = server_after - server_cpu
    busy_after = machine_busy_cpu_s()
    if busy_cpu is not None and busy_after is not None:
        result.busy_cpu_s = busy_after - busy_cpu
    return result


def check_response(response: httpx.Response, size: int, *, duplicates: bool) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    body = response.json()
    expected = (0, size) if duplicates else (size, 0)
    got = (body.get("accepted"), body.get("duplicates"))
    if got != expected or body.get("rejected"):
        return f"expected (accepted, duplicates) {expected}, got {got}; {str(body)[:300]}"
    return None


# -- the raw ceiling --------------------------------------------------------------------


def raw_rows(
    tag: str, batches_by_client: dict[int, int], size: int, limit: int
) -> list[tuple[Any, ...]]:
    """The tuples `insert_executions` got for these batches, in arrival order (run id = client + 1).

    At most `limit` rows: the clients' batches interleaved, as the server received them.
    """
    rows: list[tuple[Any, ...]] = []
    for seq in range(max(batches_by_client.values(), default=0)):
        for client, count in sorted(batches_by_client.items()):
            if seq >= count:
                continue
            if len(rows) >= limit:
                return rows
            rows.extend(
                (
                    1,
                    client + 1,
                    f"bench-{client}",
                    e["id"],
                    e["order_id"],
                    e["ts"],
                    e["symbol"],
                    e["side"],
                    float(e["qty"]),
                    e["price"],
                    e["commission"],
                    e["account"],
                    e["liquidity"],
                )
                for e in make_events(tag, client, seq, size, iso=False)
            )
    return rows


INSERT_EXECUTIONS = (
    "INSERT INTO execution (user_id, run_id, source, exec_id, order_id, ts, symbol,"
    " side, qty, price, commission, account, liquidity)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (user_id, source, exec_id) DO NOTHING"
)


def raw_ceiling(
    workdir: Path, rows: list[tuple[Any, ...]], clients: int, size: int, attempts: range
) -> RawResult:
    """Insert `rows`, then insert them again (all duplicates), once per attempt, each time
    into a fresh migrated database."""
    from backend.db.engine import Database
    from backend.db.migrate import upgrade

    result = RawResult(len(rows), [], [])
    busy, own, started_all = machine_busy_cpu_s(), time.process_time(), time.perf_counter()
    for attempt in attempts:
        path = workdir / f"raw-{attempt}.db"
        database = Database(f"sqlite:///{path}")
        upgrade(database.engine)
        database.dispose()
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")
            seed_parents(connection, clients)
            for replaying in (False, True):
                before = connection.total_changes
                started = time.perf_counter()
                for start in range(0, len(rows), size):
                    connection.execute("BEGIN IMMEDIATE")
                    connection.executemany(INSERT_EXECUTIONS, rows[start : start + size])
                    connection.execute("COMMIT")
                elapsed = time.perf_counter() - started
                changed = connection.total_changes - before
                if changed != (0 if replaying else len(rows)):
                    raise SystemExit(f"raw ceiling: {changed} rows changed, sent {len(rows)}")
                rate = len(rows) / elapsed
                (result.replay_rows_per_s if replaying else result.insert_rows_per_s).append(rate)
        finally:
            connection.close()
    busy_after = machine_busy_cpu_s()
    if busy is not None and busy_after is not None:
        other = busy_after - busy - (time.process_time() - own)
        result.other_cores = max(0.0, other) / (time.perf_counter() - started_all)
    return result


def seed_parents(connection: sqlite3.Connection, clients: int) -> None:
    """The user, strategy and one run per client that the rows' foreign keys point at."""
    now = "2023-12-15 14:30:00.000000"
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO user (id, username, password_hash, role, is_active, timezone, created_at)"
        " VALUES (1, ?, 'x', 'ADMIN', 1, 'UTC', ?)",
        (USERNAME, now),
    )
    connection.execute(
        "INSERT INTO strategy (id, user_id, name, created_at) VALUES (1, 1, 'Bench', ?)", (now,)
    )
    connection.executemany(
        "INSERT INTO strategy_run (id, user_id, source, key, strategy_id, mode, status, params,"
        " created_at) VALUES (?, 1, ?, 'bench-j', 1, 'backtest', 'running', '{}', ?)",
        [(client + 1, f"bench-{client}", now) for client in range(clients)],
    )
    connection.execute("COMMIT")


def count_postgres_executions(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as connection:
        row = connection.execute("SELECT COUNT(*) FROM execution").fetchone()
    return int(row[0]) if row else 0


def count_executions(database: Path) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        count: int = connection.execute("SELECT COUNT(*) FROM execution").fetchone()[0]
        return count
    finally:
        connection.close()


# -- the report -------------------------------------------------------------------------


GOAL_EVENTS_PER_S = 60_000  # the goal on the 2-core reference machine
GOAL_P99_MS = 100.0
BUSY_WARNING_CORES = 0.2


def report(
    args: argparse.Namespace,
    phases: list[PhaseResult],
    raw: RawResult | None,
    stored: int,
    expected: int,
) -> None:
    print()
    print(
        f"Fillbook ingest: {args.clients} clients x {args.batch}-event batches, "
        f"{args.seconds:g} s per phase, ts as {'ISO strings' if args.iso else 'epoch ns'}; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )
    if args.postgres:
        print(f"served from PostgreSQL with {args.workers} worker(s); 'srv' counts the parent only")
    header = (
        f"{'phase':<12}{'batches':>8}{'events':>9}{'wall s':>7}{'events/s':>9}"
        f"{'p50 ms':>7}{'p99 ms':>7}{'max ms':>7}{'errors':>7}{'conns':>6}"
        f"{'srv µs/ev':>10}{'cli µs/ev':>10}{'other':>6}{'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for phase in phases:
        ceiling = None if raw is None else (raw.replay if phase.expect_duplicates else raw.insert)
        per_event = max(phase.events, 1)
        print(
            f"{phase.name:<12}{len(phase.latencies_ms):>8}{phase.events:>9}{phase.wall_s:>7.2f}"
            f"{phase.events_per_s:>9,.0f}{phase.percentile(50):>7.1f}{phase.percentile(99):>7.1f}"
            f"{max(phase.latencies_ms, default=math.nan):>7.1f}{len(phase.errors):>7}"
            f"{len(phase.connections):>6}"
            f"{_fmt(phase.server_cpu_s, 1e6 / per_event, 1):>10}"
            f"{_fmt(phase.client_cpu_s, 1e6 / per_event, 1):>10}"
            f"{_fmt(phase.other_cores, 1, 2):>6}"
            f"{_fmt(phase.events_per_s / ceiling if ceiling else None, 1, 2):>6}"
        )
    if raw is not None:
        runs = ", ".join(f"{r:,.0f}" for r in raw.insert_rows_per_s)
        replays = ", ".join(f"{r:,.0f}" for r in raw.replay_rows_per_s)
        print(
            f"raw ceiling: sqlite3 executemany, {raw.rows:,} rows in {args.batch}-row transactions:"
            f" {raw.insert:,.0f} rows/s new (runs {runs}),"
            f" {raw.replay:,.0f} rows/s duplicates (runs {replays});"
            f" other {_fmt(raw.other_cores, 1, 2)}"
        )
    print(
        "srv/cli µs/ev: CPU time of the server (with its writer and derivation processes) / of"
        " the clients per event; other: CPUs busy"
        " with other processes; ratio: events/s / raw rows/s (duplicates' for the replay)"
    )
    print(f"executions in the database: {stored:,} (sent {expected:,})")
    for phase in phases:
        if phase.expect_duplicates:
            continue
        met = phase.events_per_s >= GOAL_EVENTS_PER_S and phase.percentile(99) < GOAL_P99_MS
        print(
            f"goal (>= {GOAL_EVENTS_PER_S:,} events/s and p99 < {GOAL_P99_MS:g} ms), {phase.name}:"
            f" {'met' if met else 'NOT met'}"
        )
    busy = [p.other_cores for p in phases] + [raw.other_cores if raw else None]
    if any(cores is not None and cores > BUSY_WARNING_CORES for cores in busy):
        print("WARNING: other processes used CPU during the run; the figures are skewed")
    for phase in phases:
        for error in phase.errors[:10]:
            print(f"ERROR {phase.name}: {error}")


def _fmt(value: float | None, scale: float, digits: int) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


# -- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--batch", type=int, default=1000, help="events per batch (default 1000)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="how long each phase sends (default 10)"
    )
    parser.add_argument(
        "--iso", action="store_true", help="send ts as ISO-8601 strings instead of epoch ns"
    )
    parser.add_argument("--no-replay", action="store_true", help="skip re-sending the JSON batches")
    parser.add_argument(
        "--one-loop",
        action="store_true",
        help="run every client on this process's event loop (as before 2026-11-22) instead of "
        "each in a process of its own: then a client's response waits while another builds "
        "and encodes its next batch, which adds to the measured latency",
    )
    parser.add_argument(
        "--raw-repeats",
        type=int,
        default=3,
        help="raw ceiling runs, each on a fresh database, the first before the server starts;"
        " the median is used (default 3; 0 skips)",
    )
    parser.add_argument(
        "--raw-rows",
        type=int,
        default=300_000,
        help="rows in the raw ceiling: the first ones the JSON phase sends (default 300000)",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="serve from a throwaway PostgreSQL server"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="Uvicorn worker processes (--postgres only)"
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the databases and server.log here (default: a temp dir)"
    )
    parser.add_argument(
        "--smoke", action="store_true",
        help="2 clients, 100-event batches, 0.5 s phases, a 2,000-row ceiling once; every check",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.batch, args.seconds = 2, 100, 0.5
        args.raw_rows, args.raw_repeats = 2_000, 1
    if args.clients < 1 or args.batch < 1 or args.seconds <= 0:
        parser.error("--clients and --batch must be >= 1 and --seconds > 0")
    if args.workers > 1 and not args.postgres:
        parser.error("--workers > 1 needs --postgres")
    return args


async def run_all(
    args: argparse.Namespace, base_url: str, api_key: str, server: LiveServer
) -> list[PhaseResult]:
    with contextlib.ExitStack() as stack:
        pool = None
        if not args.one_loop:
            pool = stack.enter_context(
                ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn"))
            )
            list(pool.map(time.sleep, [0.0] * args.clients))  # started before any phase
        run = functools.partial(run_phase, args, base_url, api_key, server, pool=pool)
        warm = await run("warm-up", "json")
        phases = [await run("json", "json"), await run("msgpack", "msgpack")]
        if not args.no_replay:
            replay = phases[0].batches_by_client
            phases.append(await run("json replay", "json", replay=replay))
    return [warm, *phases]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fillbook-")))
        # The raw ceiling runs once before the server starts and the other times after it
        # stops, so that a machine that gets busier or quieter meanwhile shows in its runs.
        raw = None
        rows: list[tuple[Any, ...]] = []
        if args.raw_repeats > 0:
            limit = max(args.batch, args.raw_rows)
            per_client = math.ceil(limit / (args.clients * args.batch))
            batches = dict.fromkeys(range(args.clients), per_client)
            rows = raw_rows(PHASE_IDS["json"], batches, args.batch, limit)
            raw = raw_ceiling(workdir, rows, args.clients, args.batch, range(1))
        database_url = stack.enter_context(throwaway_database("bench")) if args.postgres else None
        server = LiveServer(workdir, database_url=database_url, port=args.port or None,
                            args=("--workers", str(args.workers)))  # fmt: skip
        server.start(timeout=180)
        try:
            api_key = server.create_account(USERNAME, PASSWORD).api_key
            warm, *phases = asyncio.run(run_all(args, server.url, api_key, server))
        finally:
            server.stop(timeout=30)
        expected = sum(p.events for p in [warm, *phases] if not p.expect_duplicates)
        stored = (
            count_postgres_executions(database_url)
            if database_url
            else count_executions(workdir / "fillbook.db")
        )
        if raw is not None and args.raw_repeats > 1:
            after = range(1, args.raw_repeats)
            raw = raw.merge(raw_ceiling(workdir, rows, args.clients, args.batch, after))
        report(args, phases, raw, stored, expected)
        for error in warm.errors[:10]:
            print(f"ERROR warm-up: {error}")
    failed = any(p.errors for p in [warm, *phases]) or stored != expected
    if failed:
        print("FAILED: errors above, or the database does not hold what was sent")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
