"""Fillbook exporter SDK: push orders, fills and bars to Fillbook without losing one.

    from fillbook_exporter import Exporter

    with Exporter("http://127.0.0.1:8000", api_key, "my-desk",
                  run={"key": "2024-01-02-live", "strategy": "Breakout", "mode": "live"}) as ex:
        ex.instrument("MESZ3", multiplier=5, tick_size=0.25)
        ex.execution(ts, "MESZ3", "buy", 2, 4700.25, id="x-9001", commission=0.74)

See README.md next to this package and docs/exporters.md for the rules it follows.
"""

from fillbook_exporter.derivation import Derivation, FailedPosition
from fillbook_exporter.domain import DomainError
from fillbook_exporter.events import IdGenerator, to_ns
from fillbook_exporter.exporter import Exporter, Run, default_spool_path
from fillbook_exporter.localtime import LocalClock, LocalTimeError, to_utc
from fillbook_exporter.sender import Backoff, ExporterError, RejectedEvent
from fillbook_exporter.spool import Spool

__version__ = "0.1.0"

__all__ = [
    "Backoff",
    "Derivation",
    "DomainError",
    "Exporter",
    "ExporterError",
    "FailedPosition",
    "IdGenerator",
    "LocalClock",
    "LocalTimeError",
    "RejectedEvent",
    "Run",
    "Spool",
    "default_spool_path",
    "to_ns",
    "to_utc",
]
