"""The pure FX conversion (backend/accounts/fx.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.accounts.fx import MissingRate, MissingRates, Rates, convert_all

D = dt.date
UNIT = 100_000_000


class TestRates:
    def test_direct_pair_at_the_days_rate(self) -> None:
        rates = Rates({("EUR", "USD"): {D(2024, 1, 2): 110_000_000, D(2024, 1, 3): 109_500_000}})
        assert rates.convert(1000 * UNIT, "EUR", "USD", D(2024, 1, 3)) == 1095 * UNIT
        assert rates.convert(1000 * UNIT, "EUR", "USD", D(2024, 1, 2)) == 1100 * UNIT

    def test_inverse_pair_divides_rounding_half_even(self) -> None:
        rates = Rates({("EUR", "USD"): {D(2024, 1, 2): 125_000_000}})
        assert rates.convert(1000 * UNIT, "USD", "EUR", D(2024, 1, 2)) == 800 * UNIT
        # 1e-8 / 3 of a unit: 33333333.33.. rounds to 33333333
        thirds = Rates({("EUR", "USD"): {D(2024, 1, 2): 300_000_000}})
        assert thirds.convert(UNIT, "USD", "EUR", D(2024, 1, 2)) == 33_333_333
        # exactly half a unit rounds to even: 1 unit * 0.5 = 0.5 -> 0; 3 units * 0.5 -> 2
        half = Rates({("GBP", "USD"): {D(2024, 1, 2): 50_000_000}})
        assert half.convert(1, "GBP", "USD", D(2024, 1, 2)) == 0
        assert half.convert(3, "GBP", "USD", D(2024, 1, 2)) == 2

    def test_weekend_takes_the_last_rate_within_three_days(self) -> None:
        rates = Rates({("EUR", "USD"): {D(2024, 1, 5): 110_000_000}})  # a Friday
        assert rates.convert(UNIT, "EUR", "USD", D(2024, 1, 7)) == 110_000_000  # Sunday
        assert rates.convert(UNIT, "EUR", "USD", D(2024, 1, 8)) == 110_000_000  # Monday
        with pytest.raises(MissingRates) as info:
            rates.convert(UNIT, "EUR", "USD", D(2024, 1, 9))
        assert info.value.missing == [MissingRate("EUR", "USD", D(2024, 1, 9))]
        with pytest.raises(MissingRates):  # a later rate is never used for an earlier day
            rates.convert(UNIT, "EUR", "USD", D(2024, 1, 4))

    def test_same_currency_needs_no_rate(self) -> None:
        assert Rates({}).convert(7, "USD", "USD", D(2024, 1, 1)) == 7

    def test_convert_all_names_every_missing_pair_and_day(self) -> None:
        rates = Rates({("EUR", "USD"): {D(2024, 1, 2): 110_000_000}})
        with pytest.raises(MissingRates) as info:
            convert_all(
                rates,
                [(UNIT, "EUR", D(2024, 1, 2)), (UNIT, "EUR", D(2024, 1, 10)),
                 (UNIT, "JPY", D(2024, 1, 2)), (UNIT, "JPY", D(2024, 1, 2))],
                "USD",
            )  # fmt: skip
        assert info.value.missing == [
            MissingRate("EUR", "USD", D(2024, 1, 10)),
            MissingRate("JPY", "USD", D(2024, 1, 2)),
        ]
        assert str(info.value) == (
            "no rate for EURUSD on 2024-01-10, JPYUSD on 2024-01-02 (nor in the 3 days "
            "before): push EURUSD 1d bars or enter the rate with PUT /api/fx-rates"
        )
