"""Converting money between currencies at a day's rate. Pure.

Amounts are integers in 1e-8 units, rates too (`round(rate * 1e8)`), so a conversion
is one integer product rounded half-even back to 1e-8: exact, whatever the amount.
A rate of `base`/`quote` (EURUSD 1.08) says what one `base` is worth in `quote`; the
inverse pair converts the other way. The rate used is the day's, or else the latest
of the LOOKBACK_DAYS before it (a weekend or a holiday has no FX bar); beyond that
the rate is missing and the conversion says which pair and day it needed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

UNIT = 100_000_000
LOOKBACK_DAYS = 3


@dataclass(frozen=True, order=True)
class MissingRate:
    """No rate to turn `base` into `quote` on `day` (nor in the days before it)."""

    base: str
    quote: str
    day: dt.date

    @property
    def pair(self) -> str:
        return f"{self.base}{self.quote}"


class MissingRates(ValueError):
    """Conversions that could not be made, each naming its pair and day."""

    def __init__(self, missing: Iterable[MissingRate]) -> None:
        self.missing = sorted(set(missing))
        shown = ", ".join(f"{m.pair} on {m.day.isoformat()}" for m in self.missing[:10])
        more = len(self.missing) - 10
        super().__init__(
            f"no rate for {shown}{f' and {more} more' if more > 0 else ''} (nor in the "
            f"{LOOKBACK_DAYS} days before): push {self.missing[0].pair} 1d bars or enter the "
            "rate with PUT /api/fx-rates"
        )


def _div_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


class Rates:
    """Daily rates per (base, quote) pair, as 1e-8 units; looked up by day."""

    def __init__(self, rates: Mapping[tuple[str, str], Mapping[dt.date, int]]) -> None:
        self._days: dict[tuple[str, str], list[dt.date]] = {}
        self._units: dict[tuple[str, str], list[int]] = {}
        for pair, by_day in rates.items():
            days = sorted(day for day, units in by_day.items() if units > 0)
            self._days[pair] = days
            self._units[pair] = [by_day[day] for day in days]

    def _on(self, pair: tuple[str, str], day: dt.date) -> int | None:
        days = self._days.get(pair)
        if not days:
            return None
        at = bisect.bisect_right(days, day) - 1
        if at < 0 or (day - days[at]).days > LOOKBACK_DAYS:
            return None
        return self._units[pair][at]

    def convert(self, units: int, base: str, quote: str, day: dt.date) -> int:
        """`units` of `base` in `quote` at `day`'s rate; MissingRates when there is none."""
        if base == quote:
            return units
        direct = self._on((base, quote), day)
        if direct is not None:
            return _div_half_even(units * direct, UNIT)
        inverse = self._on((quote, base), day)
        if inverse is not None:
            return _div_half_even(units * UNIT, inverse)
        raise MissingRates([MissingRate(base, quote, day)])


def convert_all(rates: Rates, amounts: Sequence[tuple[int, str, dt.date]], quote: str) -> list[int]:
    """Each (units, currency, day) in `quote`; every missing rate named at once."""
    converted: list[int] = []
    missing: list[MissingRate] = []
    for units, currency, day in amounts:
        try:
            converted.append(rates.convert(units, currency, quote, day))
        except MissingRates as exc:
            missing.extend(exc.missing)
            converted.append(0)
    if missing:
        raise MissingRates(missing)
    return converted
