"""The pure equity core (backend/accounts/equity.py): a deposit is not profit."""

from __future__ import annotations

import pytest

from backend.accounts.equity import Entry, account_equity

U = 100_000_000


class TestAccountEquity:
    def test_a_deposit_changes_equity_not_the_return(self) -> None:
        # +10 % on 10,000, then 11,000 deposited, then +10 % on 22,000
        with_deposit = account_equity(
            10_000 * U,
            [Entry(1, "trade", 1_000 * U), Entry(2, "deposit", 11_000 * U),
             Entry(3, "trade", 2_200 * U)],
        )  # fmt: skip
        assert with_deposit.equity == 24_200 * U
        assert with_deposit.time_weighted_return == pytest.approx(0.21, abs=1e-15)
        # the same two +10 % periods without the deposit: the same return
        alone = account_equity(10_000 * U, [Entry(1, "trade", 1_000 * U),
                                            Entry(3, "trade", 1_100 * U)])  # fmt: skip
        assert alone.time_weighted_return == pytest.approx(0.21, abs=1e-15)
        assert with_deposit.totals["deposit"] == 11_000 * U
        assert with_deposit.totals["trade"] == 3_200 * U
        assert [p.equity for p in with_deposit.points] == [11_000 * U, 22_000 * U, 24_200 * U]
        assert [p.growth for p in with_deposit.points] == pytest.approx([1.1, 1.1, 1.21])

    def test_a_withdrawal_is_not_a_loss(self) -> None:
        result = account_equity(
            10_000 * U, [Entry(1, "withdrawal", -5_000 * U), Entry(2, "trade", 500 * U)]
        )
        assert result.equity == 5_500 * U
        assert result.time_weighted_return == pytest.approx(0.10, abs=1e-15)
        assert result.max_drawdown == 0.0
        assert result.max_drawdown_amount == 0

    def test_drawdown_on_growth_and_amount_on_performance(self) -> None:
        result = account_equity(
            10_000 * U,
            [Entry(1, "trade", 2_000 * U), Entry(2, "trade", -3_000 * U),
             Entry(3, "deposit", 50_000 * U), Entry(4, "fee", -100 * U)],
        )  # fmt: skip
        # growth 1.2, then 0.9 (a 25 % fall from the peak), then a fee of 100 on 59,000
        assert result.max_drawdown == pytest.approx((0.9 * (58_900 / 59_000)) / 1.2 - 1, abs=1e-15)
        assert result.max_drawdown_amount == -3_100 * U  # from the +2,000 peak to -1,100
        assert result.totals["fee"] == -100 * U

    def test_a_cash_flow_at_an_exits_instant_goes_first(self) -> None:
        result = account_equity(
            1_000 * U, [Entry(5, "trade", 100 * U), Entry(5, "deposit", 1_000 * U)]
        )
        assert [p.kind for p in result.points] == ["deposit", "trade"]
        assert result.time_weighted_return == pytest.approx(0.05, abs=1e-15)

    def test_no_money_no_return(self) -> None:
        result = account_equity(0, [Entry(1, "trade", 100 * U)])
        assert result.equity == 100 * U
        assert result.time_weighted_return is None
        assert result.max_drawdown is None
        assert result.undefined_reason == (
            "the account had no money (equity <= 0) when it earned or paid something, "
            "so that period has no return"
        )
