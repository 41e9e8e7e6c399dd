"""The service's Prometheus metrics, one registry per app.

prometheus-client is the reference implementation of the text format and its
types (counters, histograms with cumulative buckets, gauges read at scrape
time); writing the exposition format by hand would re-implement it. A registry
per app (not the library's global one) keeps apps built side by side in tests
from sharing counts.

Each worker process counts what it served; `fillbook_training_jobs` is read from
the database at scrape time, so it is the same whichever worker answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.db.engine import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingest_events = Counter(
            "fillbook_ingest_events",
            "Ingested events by outcome: accepted, duplicate or rejected",
            ["outcome"],
            registry=self.registry,
        )
        self.ingest_batches = Counter(
            "fillbook_ingest_batches",
            "Ingest requests by HTTP status",
            ["status"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "fillbook_ingest_batch_seconds",
            "Time from receiving an ingest request to its committed answer",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.rebuild_seconds = Histogram(
            "fillbook_rebuild_seconds",
            "Time to re-derive one position's trades (and everything else derived from them)",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.derivation_failures = Counter(
            "fillbook_derivation_failures",
            "Position rebuilds that raised (the position is marked failed and retried later)",
            registry=self.registry,
        )
        self.stream_clients = Gauge(
            "fillbook_stream_clients",
            "WebSocket clients connected to this process",
            registry=self.registry,
        )
        for outcome in ("accepted", "duplicate", "rejected"):
            self.ingest_events.labels(outcome)  # present at 0 before the first batch

    def count_batch(self, accepted: int, duplicates: int, rejected: int) -> None:
        self.ingest_events.labels("accepted").inc(accepted)
        self.ingest_events.labels("duplicate").inc(duplicates)
        self.ingest_events.labels("rejected").inc(rejected)

    def watch(self, db: Database, stream_clients: Callable[[], int]) -> None:
        """Read the live values at scrape time: stream clients, training jobs by status."""
        self.stream_clients.set_function(lambda: float(stream_clients()))
        self.registry.register(_TrainingJobs(db))
        self.registry.register(_PendingPositions(db))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _TrainingJobs(Collector):
    """`fillbook_training_jobs{status}` from the `training_job` table (absent: no series)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # read at scrape time only

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "fillbook_training_jobs", "Training jobs by status (all users)", labels=["status"]
        )
        try:
            with self.db.engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT status, COUNT(*) FROM training_job GROUP BY status")
                ).all()
        except SQLAlchemyError:
            rows = []  # no training table (yet) or the database is away: report nothing
        for status, count in sorted(rows):
            family.add_metric([str(status)], float(count))
        yield family


class _PendingPositions(Collector):
    """`fillbook_derivation_positions{state}`: positions waiting to be re-derived (`pending`)
    and those whose last rebuild failed (`failed`), all users, read at scrape time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "fillbook_derivation_positions",
            "Positions whose trades wait to be re-derived, by state (pending, failed)",
            labels=["state"],
        )
        try:
            with self.db.engine.connect() as connection:
                failed, total = connection.execute(
                    text("SELECT COUNT(error), COUNT(*) FROM pending_derivation")
                ).one()
        except SQLAlchemyError:
            return
        family.add_metric(["pending"], float(total - failed))
        family.add_metric(["failed"], float(failed))
        yield family
