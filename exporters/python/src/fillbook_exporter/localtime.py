"""Wall-clock times of a time zone to UTC, without guessing across DST changes. Pure.

A naive local time can name no instant (spring forward: 02:30 on 2023-03-26 in
Europe/Berlin never happened, the clocks jumped from 02:00 to 03:00) or two (fall
back: 02:15 on 2023-10-29 happened at 00:15Z and again at 01:15Z). `replace(tzinfo=)`
hides both: it maps a missing time onto some other instant and puts every repeated
time on its first pass, which reorders fills written during the repeated hour.

Here, with zoneinfo's `fold` (PEP 495): a wall time whose `fold=0` and `fold=1`
readings have different UTC offsets is either missing (neither reading round-trips
through UTC to the same wall time) or ambiguous (both do). A missing time is an
error; an ambiguous one is resolved by the `ambiguous` rule:

- `order` (default): the times come in time order (a fill log), so the earliest
  reading that is not before the previous time is the one; if both are before it,
  the order cannot decide and it is an error;
- `earliest`: the first pass (the offset before the change);
- `latest`: the second pass;
- `raise`: every ambiguous time is an error.

    clock = LocalClock(ZoneInfo("Europe/Berlin"))
    [clock(t) for t in naive_times]          # aware UTC datetimes, or LocalTimeError
    to_utc(naive_times, ZoneInfo("Europe/Berlin"), ambiguous="order")   # the same, all at once
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal, get_args

Ambiguous = Literal["order", "earliest", "latest", "raise"]
AMBIGUOUS_RULES: tuple[str, ...] = get_args(Ambiguous)

_UTC = dt.UTC


class LocalTimeError(ValueError):
    """A wall-clock time that names no instant, or two that the rule cannot choose from."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index  # the position in the sequence (to_utc), when known


class NonexistentTimeError(LocalTimeError):
    """The wall time falls in a gap: the clocks jumped over it."""


class AmbiguousTimeError(LocalTimeError):
    """The wall time happened twice and the rule does not say which pass is meant."""


def zone_name(zone: dt.tzinfo) -> str:
    """`Europe/Berlin` for a ZoneInfo, else whatever the tzinfo calls itself."""
    return str(getattr(zone, "key", None) or zone)


def readings(when: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, ...]:
    """The UTC instants the naive wall time `when` names in `zone`, earliest first.

    One for an ordinary time, two for a time in a repeated hour, none for a time in
    a gap.
    """
    first = when.replace(tzinfo=zone, fold=0)
    second = when.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return (first.astimezone(_UTC),)
    found = sorted(
        {reading.astimezone(_UTC) for reading in (first, second) if _exists(reading, zone)}
    )
    return tuple(found)


def resolve(
    when: dt.datetime,
    zone: dt.tzinfo,
    ambiguous: Ambiguous = "order",
    previous: dt.datetime | None = None,
) -> dt.datetime:
    """The aware UTC instant of `when`: read in `zone` when naive, converted when aware.

    `previous` is the instant of the time before it in the sequence (for `order`).
    Raises `NonexistentTimeError` for a time in a gap and `AmbiguousTimeError` for a
    repeated time the rule cannot decide.
    """
    if when.tzinfo is not None and when.utcoffset() is not None:
        return when.astimezone(_UTC)
    if ambiguous not in AMBIGUOUS_RULES:
        raise ValueError(f"ambiguous: must be one of {', '.join(AMBIGUOUS_RULES)}, "
                         f"got {ambiguous!r}")
    found = readings(when, zone)
    if len(found) == 1:
        return found[0]
    if not found:
        before, after = _jump(when, zone)
        raise NonexistentTimeError(
            f"{_wall(when)} does not exist in {zone_name(zone)} "
            f"(the clocks jumped from {before} to {after})"
        )
    earliest, latest = found
    if ambiguous == "earliest":
        return earliest
    if ambiguous == "latest":
        return latest
    passes = (f"{_wall(when)} is ambiguous in {zone_name(zone)}: it happened twice, at "
              f"{_utc(earliest)} and at {_utc(latest)}")
    choose = "(choose the pass with --ambiguous earliest or latest)"
    if ambiguous == "raise":
        raise AmbiguousTimeError(f"{passes} {choose}")
    if previous is None or earliest >= previous:
        return earliest
    if latest >= previous:
        return latest
    raise AmbiguousTimeError(
        f"{passes}, both before the previous time {_utc(previous)}, so the order cannot "
        f"tell which {choose}"
    )


class LocalClock:
    """Resolves the times of one sequence (a file, a platform's clock) in order.

    Each call returns the aware UTC instant of its time (aware times are converted
    and remembered too) and remembers it as the previous time for the `order` rule;
    a time that raises is not remembered. With `fallback` set, an ambiguous time the
    rule cannot decide is resolved by that rule instead of raising.
    """

    def __init__(
        self,
        zone: dt.tzinfo,
        ambiguous: Ambiguous = "order",
        *,
        fallback: Literal["earliest", "latest"] | None = None,
    ) -> None:
        if ambiguous not in AMBIGUOUS_RULES:
            raise ValueError(f"ambiguous: must be one of {', '.join(AMBIGUOUS_RULES)}, "
                             f"got {ambiguous!r}")
        self.zone = zone
        self.ambiguous: Ambiguous = ambiguous
        self.fallback = fallback
        self.previous: dt.datetime | None = None

    def __call__(self, when: dt.datetime) -> dt.datetime:
        try:
            instant = resolve(when, self.zone, self.ambiguous, self.previous)
        except AmbiguousTimeError:
            if self.fallback is None:
                raise
            instant = resolve(when, self.zone, self.fallback)
        self.previous = instant
        return instant


def to_utc(
    times: Iterable[dt.datetime], zone: dt.tzinfo, ambiguous: Ambiguous = "order"
) -> list[dt.datetime]:
    """Every time of `times` (in sequence order) as an aware UTC datetime.

    Raises the first `LocalTimeError`, with `index` set to the time's position.
    """
    clock = LocalClock(zone, ambiguous)
    result: list[dt.datetime] = []
    for index, when in enumerate(times):
        try:
            result.append(clock(when))
        except LocalTimeError as exc:
            raise type(exc)(str(exc), index) from None
    return result


def _exists(reading: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether the aware local `reading` comes back unchanged from a round trip via UTC."""
    back = reading.astimezone(_UTC).astimezone(zone)
    return back.replace(tzinfo=None, fold=0) == reading.replace(tzinfo=None, fold=0)


def _jump(when: dt.datetime, zone: dt.tzinfo) -> tuple[str, str]:
    """The wall times just before and after the gap `when` falls in ("02:00", "03:00")."""
    first = when.replace(tzinfo=zone, fold=0).astimezone(_UTC)
    second = when.replace(tzinfo=zone, fold=1).astimezone(_UTC)
    low, high = min(first, second), max(first, second)  # the change lies between them
    before = low.astimezone(zone).utcoffset()
    while high - low > dt.timedelta(seconds=1):  # bisect to the second of the change
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    change = high.replace(microsecond=0)
    assert before is not None
    after = change.astimezone(zone).utcoffset()
    assert after is not None
    return _clock((change + before).replace(tzinfo=None)), _clock(
        (change + after).replace(tzinfo=None)
    )


def _wall(when: dt.datetime) -> str:
    """`2023-03-26 02:30`, with seconds and a fraction only when it has them."""
    return f"{when:%Y-%m-%d} {_clock(when)}"


def _clock(when: dt.datetime) -> str:
    text = f"{when:%H:%M}"
    if when.second or when.microsecond:
        text += f":{when:%S}"
    if when.microsecond:
        text += f".{when:%f}".rstrip("0")
    return text


def _utc(when: dt.datetime) -> str:
    return when.astimezone(_UTC).isoformat().replace("+00:00", "Z")
