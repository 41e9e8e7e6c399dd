"""Wall-clock times of a file's zone to UTC, DST-safe. Pure.

A naive time in a gap (spring forward) names no instant: the row is refused. A time of
the repeated hour (fall back) names two: the one that keeps the file in time order is
taken (like the CLI's `--ambiguous order`), and a row neither pass keeps in order is
refused, naming both instants. Files are read in their own order, newest-first files
(thinkorswim) reversed by their parser before this runs.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from backend.imports.model import RowError

_UTC = dt.UTC


def _exists(reading: dt.datetime, zone: dt.tzinfo) -> bool:
    back = reading.astimezone(_UTC).astimezone(zone)
    return back.replace(tzinfo=None, fold=0) == reading.replace(tzinfo=None, fold=0)


def readings(when: dt.datetime, zone: dt.tzinfo) -> list[dt.datetime]:
    """The UTC instants a naive wall time names in `zone`: one, two (repeated hour), none (gap)."""
    first, second = when.replace(tzinfo=zone, fold=0), when.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first.astimezone(_UTC)]
    return sorted({r.astimezone(_UTC) for r in (first, second) if _exists(r, zone)})


def _iso(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class FileClock:
    """Reads one file's times in order; remembers the last instant for the order rule."""

    def __init__(self, zone: ZoneInfo | None) -> None:
        self.zone = zone
        self.previous: dt.datetime | None = None

    def __call__(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is not None and when.utcoffset() is not None:
            instant = when.astimezone(_UTC)
        elif self.zone is None:
            raise RowError(f"time: {when:%Y-%m-%d %H:%M:%S} has no offset and no time zone "
                           "was given (tz)")  # fmt: skip
        else:
            found = readings(when, self.zone)
            wall = f"{when:%Y-%m-%d %H:%M:%S}"
            if not found:
                raise RowError(f"time: {wall} does not exist in {self.zone.key} (the clocks "
                               "skipped it at a DST change)")  # fmt: skip
            if len(found) == 1 or self.previous is None or found[0] >= self.previous:
                instant = found[0]
            elif found[1] >= self.previous:
                instant = found[1]
            else:
                raise RowError(
                    f"time: {wall} is ambiguous in {self.zone.key} ({_iso(found[0])} or "
                    f"{_iso(found[1])}) and both are before the row above it "
                    f"({_iso(self.previous)}), so the file's order cannot tell which"
                )
        self.previous = instant
        return instant


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone `name`, or None; a ValueError naming the value if unknown."""
    if name is None or name == "":
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ValueError(f"tz: unknown time zone {name!r} (an IANA name such as "
                         "America/New_York)") from None  # fmt: skip
