"""What an API key may do. Pure: no database, no web framework.

A logged-in person (an access token) may do everything its role allows; an API key
only what its scopes name. Managing keys and users needs a person whatever the scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    WRITE_JOURNAL = "write:journal"
    BACKTESTS = "backtests"
    TRAINING = "training"
    EXPORT = "export"


# One line each, as the dashboard's key form and the docs explain them.
DESCRIPTIONS: dict[Scope, str] = {
    Scope.INGEST: "push orders, fills and bars (POST /api/ingest)",
    Scope.READ: "read the journal: runs, trades, bars, metrics, backtests, training, live updates",
    Scope.WRITE_JOURNAL: "edit trade notes, tags and setups, and instruments; import a journal",
    Scope.BACKTESTS: "launch backtests (POST /api/backtests)",
    Scope.TRAINING: "start and cancel training jobs, set auto-training",
    Scope.EXPORT: "download the whole journal (GET /api/export)",
}

# A new key without `scopes`: an exporter's key, which pushes and reads nothing back.
DEFAULT_SCOPES: tuple[Scope, ...] = (Scope.INGEST,)
# What keys created before scopes existed could do; the migration gives them these.
LEGACY_SCOPES: tuple[Scope, ...] = (Scope.INGEST, Scope.READ)


def parse_scopes(values: Iterable[object]) -> list[Scope]:
    """Known scopes in their canonical order, duplicates dropped; ValueError names the first
    unknown one and lists the valid ones."""
    found: set[Scope] = set()
    known = {scope.value: scope for scope in Scope}
    for value in values:
        if not isinstance(value, str) or value not in known:
            raise ValueError(f"unknown scope {value!r}; valid scopes: {', '.join(known)}")
        found.add(known[value])
    return [scope for scope in Scope if scope in found]
