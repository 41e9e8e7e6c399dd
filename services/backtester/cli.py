"""`python -m services.backtester list | run | sweep` (see `--help` of each)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from services.backtester.matching import FillRules
from services.backtester.registry import catalogue
from services.backtester.runner import PushTarget, RunSpec, StoredBars, run_backtest
from services.backtester.sinks import Instrument
from services.backtester.sweep import judge, parse_values, sweep


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        if args.command == "run":
            return _run(args)
        return _sweep(args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.backtester",
        description="Backtest strategies on 1-second bars and push the runs to Fillbook.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the registered strategies and their parameters")
    listing.add_argument("--json", action="store_true", help="print JSON")

    run = commands.add_parser("run", help="one backtest")
    _common(run)
    run.add_argument("--param", action="append", default=[], metavar="K=V",
                     help="a strategy parameter (repeat)")
    run.add_argument("--pace", type=float, help="replay at this multiple of market time")
    run.add_argument("--run-key", help="the run's key in Fillbook (default: a new one)")

    sweeps = commands.add_parser("sweep", help="every combination of a parameter grid")
    _common(sweeps)
    sweeps.add_argument("--grid", action="append", default=[], metavar="K=V1,V2|START:STOP:STEP",
                        help="values of one parameter (repeat)")
    sweeps.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="a fixed parameter (repeat)")
    sweeps.add_argument("--metric", default="net_pnl", help="rank by this metric (desc)")
    sweeps.add_argument("--top", type=int, help="push only the best N (default: push every run)")
    sweeps.add_argument("--workers", type=int, help="parallel processes (default: CPUs)")
    sweeps.add_argument("--run-key", help="prefix of the runs' keys")
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="1-second OHLCV CSV (Unix ms, o, h, l, c, v)")
    source.add_argument("--stored", metavar="SYMBOL",
                        help="the 1-second bars of SYMBOL stored in Fillbook (--url, --api-key)")
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--interval", default="5m", help="candle interval (1m, 5m, 1h, ...)")
    parser.add_argument("--url", help="Fillbook URL to push to (and read --stored bars from)")
    parser.add_argument("--api-key", help="API key (or access token) for --url")
    parser.add_argument("--source", default="backtester", help="the exporter's source name")
    parser.add_argument("--symbol", default="SYNTH", help="instrument symbol (default SYNTH)")
    parser.add_argument("--multiplier", type=float, default=1.0, help="point value")
    parser.add_argument("--tick-size", type=float, default=0.01)
    parser.add_argument("--currency", default="USD")
    parser.add_argument("--slippage-ticks", type=float, default=0.0)
    parser.add_argument("--commission", type=float, default=0.0, help="per contract")
    parser.add_argument("--commission-rate", type=float, default=0.0,
                        help="fraction of notional (0.0001 = 1 bp)")
    parser.add_argument("--both-touched", choices=("pessimistic", "optimistic", "nearest"),
                        default="pessimistic", help="who wins when one second hits stop and target")
    parser.add_argument("--limit-fill", choices=("touch", "through"), default="touch")
    parser.add_argument("--participation", type=float,
                        help="partial fills: at most this fraction of each second's volume")
    parser.add_argument("--capital", type=float, default=100_000.0, help="initial capital")
    parser.add_argument("--spool-dir", type=Path, help="where the exporter spools events")
    parser.add_argument("--format", choices=("json", "msgpack"), default="json",
                        help="the ingest body's encoding")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _list(args: argparse.Namespace) -> int:
    strategies = catalogue()
    if args.json:
        _print(json.dumps(strategies, indent=2))
        return 0
    for strategy in strategies:
        _print(f"{strategy['name']}: {strategy['description']}")
        for p in strategy["parameters"]:
            bounds = f" [{p['minimum']}, {p['maximum']}]" if p["minimum"] is not None else ""
            _print(f"    {p['name']} ({p['type']}, default {p['default']}){bounds}: "
                   f"{p['description']}")
    return 0


def _spec(args: argparse.Namespace) -> RunSpec:
    data: Path | StoredBars
    if args.stored:
        if not args.url or not args.api_key:
            raise ValueError("--stored needs --url and --api-key")
        data = StoredBars(args.url, args.api_key, args.stored)
    else:
        data = args.data
    return RunSpec(
        data=data,
        strategy=args.strategy,
        interval=args.interval,
        params=_pairs(args.param),
        instrument=Instrument(args.symbol, args.multiplier, args.tick_size, args.currency),
        rules=FillRules(
            slippage_ticks=args.slippage_ticks,
            commission_per_contract=args.commission,
            commission_rate=args.commission_rate,
            both_touched=args.both_touched,
            limit_fill=args.limit_fill,
            volume_participation=args.participation,
        ),
        initial_capital=args.capital,
    )


def _push(args: argparse.Namespace, pace: float | None = None) -> PushTarget | None:
    if not args.url and not args.api_key:
        return None
    if not args.url or not args.api_key:
        raise ValueError("pushing needs both --url and --api-key")
    return PushTarget(
        args.url,
        args.api_key,
        source=args.source,
        run_key=args.run_key,
        spool_dir=args.spool_dir,
        fmt=args.format,
        pace=pace,
    )


def _pairs(items: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"expected K=V, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


@contextlib.contextmanager
def _progress_bar(desc: str, unit: str, hidden: bool) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr (hidden with --no-progress, or off a terminal) and its
    `progress(done, total)` callback."""
    bar = tqdm(total=0, unit=unit, desc=desc, disable=hidden or None, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()


def _run(args: argparse.Namespace) -> int:
    spec = _spec(args)
    with _progress_bar(spec.strategy, "candle", args.no_progress) as progress:
        outcome = run_backtest(spec, push=_push(args, args.pace), progress=progress)
    summary: dict[str, Any] = outcome.result.summary()
    summary["run_key"] = outcome.run_key
    summary["pushed"] = outcome.pushed
    summary["data"] = None if outcome.report is None else outcome.report.as_dict()
    if args.json:
        _print(json.dumps(summary, indent=2, default=str))
        return 0
    if outcome.report is not None:
        _print(f"data: {outcome.report.summary()}")
    metrics = summary["metrics"]
    _print(
        f"{summary['strategy']} {summary['params']} on {summary['candles']} {args.interval} "
        f"candles ({summary['seconds']} seconds): {summary['orders']} orders, "
        f"{summary['fills']} fills, {summary['trades']} trades, net PnL {metrics['net_pnl']}, "
        f"win rate {metrics['win_rate']}, sharpe {metrics['sharpe']}, "
        f"max drawdown {metrics['max_drawdown']}; {summary['elapsed_s']} s"
    )
    if outcome.run_key:
        _print(f"pushed as run {outcome.run_key!r}: {outcome.pushed}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    spec = _spec(args)
    axes = {}
    for item in args.grid:
        name, sep, values = item.partition("=")
        if not sep:
            raise ValueError(f"--grid expects K=V1,V2 or K=START:STOP:STEP, got {item!r}")
        axes[name.strip()] = parse_values(values)
    if not axes:
        raise ValueError("a sweep needs at least one --grid")
    fixed = _pairs(args.param)
    axes.update({name: [value] for name, value in fixed.items() if name not in axes})
    with _progress_bar("sweep", "run", args.no_progress) as progress:
        rows = sweep(spec, axes, metric=args.metric, top=args.top, push=_push(args),
                     workers=args.workers, on_done=progress)
    if args.json:
        _print(json.dumps([row.__dict__ for row in rows], indent=2, default=str))
        return 0
    for row in rows:
        pushed = f"  run {row.run_key}" if row.run_key else ""
        _print(f"#{row.rank} {args.metric}={row.metrics.get(args.metric)} trades={row.trades} "
               f"{row.params}{pushed}")
    deflated = judge(rows)
    if deflated is not None:
        _print(f"deflated Sharpe of the best variant: {deflated.deflated_sharpe:.3f} (Sharpe per "
               f"trade {deflated.best_sharpe:.4f}, luck gives {deflated.expected_max_sharpe:.4f} "
               f"from {deflated.trials} variants, variance {deflated.trials_variance:.6f})")
        if deflated.warning:
            _print(f"WARNING: {deflated.warning}")
    return 0


def _print(text: str) -> None:
    print(text)  # noqa: T201
