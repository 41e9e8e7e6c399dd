"""The internal backtester: 1-second bars in, second-precise fills, runs pushed to Fillbook.

Library use::

    from services.backtester import RunSpec, PushTarget, run_backtest, sweep
    outcome = run_backtest(RunSpec("bars.csv", "ma_cross", "5m", {"fast": 10, "slow": 30}),
                           push=PushTarget("http://127.0.0.1:8000", api_key))

See docs/backtester.md for the fill rules and the strategy interface.
"""

from services.backtester.data import LoadReport, Seconds, load_csv, load_stored
from services.backtester.engine import Backtest, BacktestConfig, BacktestResult
from services.backtester.matching import FillRules
from services.backtester.registry import catalogue, register
from services.backtester.runner import PushTarget, RunSpec, StoredBars, run_backtest
from services.backtester.sinks import Instrument
from services.backtester.strategy import Bar, Context, Parameter, Strategy
from services.backtester.sweep import sweep

__all__ = [
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "Bar",
    "Context",
    "FillRules",
    "Instrument",
    "LoadReport",
    "Parameter",
    "PushTarget",
    "RunSpec",
    "Seconds",
    "StoredBars",
    "Strategy",
    "catalogue",
    "load_csv",
    "load_stored",
    "register",
    "run_backtest",
    "sweep",
]
