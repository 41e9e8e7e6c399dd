"""Every metric on hand-computed cases, edge cases, and against empyrical."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import empyrical
import numpy as np
import pandas as pd
import pytest

from backend.analytics import metrics as metrics_module
from backend.analytics.metrics import METRICS, ClosedTrade, RunData, compute_all
from backend.analytics.series import business_day

D = Decimal
S = 1_000_000_000


def _ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * S


def _trade(exit_at: str, net: str, gross: str, hold_s: int, **extra: object) -> ClosedTrade:
    exit_ts = _ns(exit_at)
    commission = D(gross) - D(net)
    return ClosedTrade(D(net), D(gross), commission, exit_ts - hold_s * S, exit_ts, **extra)  # type: ignore[arg-type]


HAND = [
    _trade("2024-01-08T15:00:00", "100", "102", 60, r_multiple=2.0, mfe=3.0, mae=1.0, captured=2.0),
    _trade(
        "2024-01-09T15:00:00", "-50", "-48", 120, r_multiple=-1.0, mfe=1.0, mae=3.0, captured=-2.0
    ),
    _trade("2024-01-13T10:00:00", "200", "204", 300),  # a Saturday: booked on Monday the 15th
    _trade("2024-01-15T15:00:00", "-25", "-24", 30),
]


class TestHandComputed:
    def test_every_metric_of_a_small_run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Six business days: below the annualising threshold, lowered here to check the
        # annualised formulas by hand too (the real threshold: TestAnnualising).
        monkeypatch.setattr(metrics_module, "MIN_ANNUALISED_DAYS", 6)
        values, reasons = compute_all(RunData(HAND, initial_capital=10_000))
        # daily PnL over Jan 8-15 business days: 100, -50, 0, 0, 0, 175
        r = [0.01, -50 / 10100, 0.0, 0.0, 0.0, 175 / 10050]
        mean, stdev = np.mean(r), np.std(r, ddof=1)
        assert values == pytest.approx({
            "net_pnl": 225.0, "gross_pnl": 234.0, "commission": 9.0, "commission_share": 9 / 234,
            "trade_count": 4, "win_rate": 0.5, "avg_win": 150.0, "avg_loss": -37.5,
            "payoff_ratio": 4.0, "profit_factor": 4.0, "expectancy": 56.25, "expectancy_r": 0.5,
            "sqn": 2 * 56.25 / np.std([100, -50, 200, -25], ddof=1),
            "largest_win": 200.0, "largest_loss": -50.0, "max_win_streak": 1, "max_loss_streak": 1,
            "avg_hold_seconds": 127.5, "avg_hold_seconds_win": 180.0, "avg_hold_seconds_loss": 75.0,
            "exposure": 510 / (_ns("2024-01-15T15:00:00") / S - (_ns("2024-01-08T15:00:00") / S - 60)),
            "max_drawdown": -50 / 10100, "max_drawdown_amount": -50.0,
            "max_drawdown_duration_days": 5,  # peak Jan 8, recovered Jan 15
            # equity after each exit 10100, 10050, 10250, 10225: trough -50 below 10100
            "max_drawdown_trades": -50.0, "max_drawdown_trades_pct": -50 / 10100,
            "recovery_factor": 4.5,
            "sharpe": mean / stdev * math.sqrt(252),
            "sortino": mean * 252 / (math.sqrt(np.mean(np.minimum(r, 0) ** 2)) * math.sqrt(252)),
            "annual_return": (10225 / 10000) ** (252 / 6) - 1,
            "calmar": ((10225 / 10000) ** (252 / 6) - 1) / (50 / 10100),
            "mfe_efficiency": (2 + -2) / (3 + 1), "mae_efficiency": ((1 - 1 / 4) + (1 - 3 / 4)) / 2,
        }, rel=1e-12)  # fmt: skip
        assert reasons == {}

    def test_without_initial_capital_ratios_are_null_with_the_reason(self) -> None:
        values, reasons = compute_all(RunData(HAND))
        for name in ("max_drawdown", "sharpe", "sortino", "calmar", "annual_return"):
            assert values[name] is None
            assert reasons[name] == "the run has no initial_capital"
        assert (values["net_pnl"], values["max_drawdown_amount"], values["profit_factor"]) == (
            225.0,
            -50.0,
            4.0,
        )

    def test_no_trades(self) -> None:
        values, reasons = compute_all(RunData([], initial_capital=1000))
        assert (values["trade_count"], values["net_pnl"], values["max_win_streak"]) == (0, 0.0, 0)
        assert values["win_rate"] is None
        assert reasons["win_rate"] == "no closed trades"
        assert reasons["sharpe"] == "no closed trades"

    def test_all_winners(self) -> None:
        trades = [_trade(f"2024-01-0{d}T15:00:00", "10", "10", 60) for d in (2, 3, 4)]
        values, reasons = compute_all(RunData(trades, initial_capital=1000))
        assert (values["win_rate"], values["max_win_streak"], values["max_drawdown"]) == (
            1.0,
            3,
            0.0,
        )
        assert reasons["profit_factor"] == "no losing trades"
        assert reasons["avg_loss"] == "no losing trades"
        assert reasons["sortino"] == "no day had a negative return"
        assert reasons["recovery_factor"] == "no drawdown"

    def test_all_losers(self) -> None:
        trades = [_trade(f"2024-01-0{d}T15:00:00", "-10", "-9", 60) for d in (2, 3, 4)]
        values, reasons = compute_all(RunData(trades, initial_capital=1000))
        assert (values["win_rate"], values["profit_factor"], values["max_loss_streak"]) == (
            0.0,
            0.0,
            3,
        )
        assert values["max_drawdown"] == pytest.approx(-30 / 1000)
        assert values["max_drawdown_duration_days"] == 3  # never recovered: to the last day
        assert reasons["commission_share"] == "gross PnL is not positive"
        assert reasons["avg_win"] == "no winning trades"

    def test_one_trade_and_zero_length_trades(self) -> None:
        values, reasons = compute_all(
            RunData([_trade("2024-01-02T15:00:00", "5", "5", 0)], initial_capital=100)
        )
        assert (values["trade_count"], values["avg_hold_seconds"], values["expectancy"]) == (
            1,
            0.0,
            5.0,
        )
        assert reasons["sqn"] == "needs at least 2 closed trades"
        assert reasons["sharpe"] == "needs at least 2 daily returns"
        assert reasons["exposure"] == "the trades span no time"

    def test_weekend_exits_book_on_monday(self) -> None:
        days = [business_day(_ns(f"2024-01-{d}T12:00:00")) for d in (12, 13, 14, 15)]
        assert days[1] == days[2] == days[3] == days[0] + 3

    def test_every_metric_is_registered_with_unit_and_formula(self) -> None:
        assert len(METRICS) >= 30
        for definition in METRICS.values():
            assert definition.unit
            assert definition.formula


def _independent_returns(trades: list[ClosedTrade], capital: float) -> pd.Series:
    """Daily returns computed with pandas, independently of backend.analytics.series."""
    exits = pd.to_datetime([t.exit_ts for t in trades], unit="ns", utc=True).normalize()
    booked = pd.Series([float(t.net_pnl) for t in trades], index=exits)
    shifted = booked.index.map(lambda d: d + pd.offsets.BDay(0) if d.weekday() >= 5 else d)
    booked.index = shifted
    daily = booked.groupby(level=0).sum()
    days = pd.bdate_range(daily.index.min(), daily.index.max(), tz="UTC")
    equity = capital + daily.reindex(days, fill_value=0.0).cumsum()
    return equity.pct_change().fillna(equity.iloc[0] / capital - 1.0)


class TestAgainstEmpyrical:
    @pytest.mark.parametrize("seed", range(8))
    def test_sharpe_sortino_max_drawdown_match_to_1e_9(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        start = _ns("2024-01-01T00:00:00")
        trades = [
            _trade_at(
                start + int(rng.integers(0, 200 * 86400)) * S, round(float(rng.normal(5, 120)), 2)
            )
            for _ in range(int(rng.integers(5, 300)))
        ]
        capital = 25_000.0
        values, _ = compute_all(RunData(trades, initial_capital=capital))
        returns = _independent_returns(trades, capital)
        assert values["sharpe"] == pytest.approx(empyrical.sharpe_ratio(returns), abs=1e-9)
        assert values["sortino"] == pytest.approx(empyrical.sortino_ratio(returns), abs=1e-9)
        assert values["max_drawdown"] == pytest.approx(empyrical.max_drawdown(returns), abs=1e-9)
        assert values["annual_return"] == pytest.approx(empyrical.annual_return(returns), abs=1e-9)
        assert values["calmar"] == pytest.approx(empyrical.calmar_ratio(returns), abs=1e-9)


def _trade_at(exit_ts: int, net: float) -> ClosedTrade:
    return ClosedTrade(D(str(net)), D(str(net)), D(0), exit_ts - 60 * S, exit_ts)


class TestDocumentation:
    def test_docs_list_every_metric_with_its_formula(self) -> None:
        from backend.config import PROJECT_ROOT

        text = (PROJECT_ROOT / "docs" / "metrics.md").read_text()
        for definition in METRICS.values():
            assert f"| `{definition.name}` | {definition.unit} | {definition.formula} |" in text
