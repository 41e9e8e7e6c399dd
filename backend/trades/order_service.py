"""A trade's orders panel and explanation, and a run's order analytics (caller's data only)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.analytics.orders import order_groups, order_metrics
from backend.db.models import Execution, Trade, TradeFill
from backend.errors import InvalidPayload, NotFound
from backend.ingest.domain import FINISHED_STATUSES
from backend.ingest.timestamps import format_ts
from backend.market import repository as bars
from backend.market.timeframes import format_timeframe
from backend.runs import service as runs
from backend.trades import order_repository as orders_repo
from backend.trades import repository
from backend.trades.explain import Crossing, ExplainFill, Part, excursion_bars, explain
from backend.trades.order_analytics import (
    Closes,
    OrderAnalysis,
    OrderRecord,
    Slippage,
    analyse_order,
)
from backend.trades.order_analytics import Instrument as InstrumentInfo
from backend.trades.order_schemas import (
    ExplainExcursions,
    ExplainInitialStop,
    ExplainPart,
    ExplainResult,
    ExplainStep,
    OrderAnalysisRead,
    OrderGroupRead,
    OrderMetricsRead,
    RunOrderAnalytics,
    SlippageRead,
    StopMoveRead,
    StopMovesRead,
    StopMoveSummaryRead,
    TimelineStepRead,
    TradeExplanation,
    TradeOrdersRead,
)
from backend.trades.reconstruct import Fill
from backend.trades.risk import (
    PLACEMENT_GRACE_NS,
    StopOrder,
    initial_stop_order,
    initial_stop_orders,
)
from backend.trades.stop_moves import StopMoves, StopOrderHistory, stop_moves

# Fills an explanation replays at most (a trade scaled in thousands of times says the rest
# in its totals).
MAX_EXPLAIN_FILLS = 5000
_STOP_TYPES = ("stop", "stop_limit")


def _trade(session: Session, user_id: int, trade_id: int) -> Trade:
    trade = repository.get_trade(session, user_id, trade_id)
    if trade is None:
        raise NotFound(f"trade {trade_id} not found")
    return trade


def _ts(ns: int | None) -> str | None:
    return None if ns is None else format_ts(ns)


def _slippage(slip: Slippage | None) -> SlippageRead | None:
    if slip is None:
        return None
    return SlippageRead(
        reference=float(slip.reference),
        price=float(slip.price),
        amount=float(slip.amount),
        ticks=None if slip.ticks is None else float(slip.ticks),
        qty=float(slip.qty),
    )


def _order_read(analysis: OrderAnalysis, role: str) -> OrderAnalysisRead:
    a = analysis
    return OrderAnalysisRead.model_validate(
        {
            "order_id": a.order_id,
            "symbol": a.symbol,
            "side": a.side,
            "order_type": a.order_type,
            "parent_id": a.parent_id,
            "role": role,
            "status": a.status,
            "placed_ts": format_ts(a.placed_ts),
            "finished_ts": _ts(a.finished_ts),
            "qty": a.qty,
            "filled_qty": float(a.filled_qty),
            "avg_fill_price": None if a.avg_fill_price is None else float(a.avg_fill_price),
            "first_fill_ts": _ts(a.first_fill_ts),
            "latency_seconds": a.latency_seconds,
            "full_latency_seconds": a.full_latency_seconds,
            "modifications": a.modifications,
            "cancelled": a.cancelled,
            "slippage_vs_order": _slippage(a.vs_order),
            "slippage_vs_close": _slippage(a.vs_close),
            "close_ref_ts": _ts(a.close_ref_ts),
            "timeline": [
                TimelineStepRead(
                    ts=format_ts(s.ts),
                    kind=s.kind,
                    status=s.status,
                    qty=s.qty,
                    limit_price=s.limit_price,
                    stop_price=s.stop_price,
                    fill_price=s.fill_price,
                    fill_id=s.fill_id,
                    changes=list(s.changes),
                )
                for s in a.timeline
            ],
        }
    )


def _closes_for(
    session: Session, user_id: int, records: Sequence[OrderRecord]
) -> dict[str, Closes | None]:
    spans: dict[str, tuple[int, int]] = {}
    for r in records:
        lo, hi = spans.get(r.symbol, (r.events[0].ts, r.events[0].ts))
        spans[r.symbol] = (min(lo, r.events[0].ts), max(hi, r.events[0].ts))
    return {s: orders_repo.closes(session, user_id, s, lo, hi) for s, (lo, hi) in spans.items()}


def _analyse(
    session: Session, user_id: int, run_id: int, order_ids: Sequence[str] | None
) -> tuple[list[OrderRecord], list[OrderAnalysis], dict[str, InstrumentInfo]]:
    records = orders_repo.order_records(session, run_id, order_ids)
    fills = orders_repo.order_fills(session, run_id, [r.order_id for r in records])
    closes = _closes_for(session, user_id, records)
    instruments = {s: orders_repo.instrument(session, user_id, s) for s in closes}
    analyses = [
        analyse_order(r, fills.get(r.order_id, []), instruments[r.symbol], closes[r.symbol])
        for r in records
    ]
    return records, analyses, instruments


def _history(record: OrderRecord) -> StopOrderHistory:
    return StopOrderHistory(
        record.order_id,
        tuple((e.ts, e.stop_price) for e in record.events if e.stop_price is not None),
    )


def _stop_order(record: OrderRecord) -> StopOrder:
    """A stop as risk.py reads it, from its history (as the ingest writer keeps it)."""
    finished = next((e.ts for e in record.events if e.status in FINISHED_STATUSES), None)
    first_stop = next((e.stop_price for e in record.events if e.stop_price is not None), None)
    return StopOrder(
        record.order_id,
        record.side,
        record.order_type,
        record.parent_id,
        record.events[0].ts,
        finished,
        first_stop,
    )


def _stop_moves(trade: Trade, exit_orders: set[str], chain: Sequence[OrderRecord]) -> StopMoves:
    return stop_moves(
        trade.direction,
        Decimal(str(trade.entry_price)),
        Decimal(repr(trade.qty)),
        trade.multiplier,
        Decimal(str(trade.gross_pnl)),
        None if trade.is_open or trade.exit_price is None else Decimal(str(trade.exit_price)),
        trade.mae,
        exit_orders,
        [_history(r) for r in chain],
    )


def _stop_moves_read(result: StopMoves) -> StopMovesRead:
    return StopMovesRead.model_validate(
        {
            "first_stop": result.first_stop,
            "first_order_id": result.first_order_id,
            "last_stop": result.last_stop,
            "moves": [
                StopMoveRead(
                    ts=format_ts(m.ts),
                    order_id=m.order_id,
                    from_price=m.from_price,
                    to_price=m.to_price,
                    tighter=m.tighter,
                )
                for m in result.moves
            ],
            "verdict": result.verdict,
            "effect": None if result.effect is None else float(result.effect),
            "counterfactual_gross_pnl": None
            if result.counterfactual_gross is None
            else float(result.counterfactual_gross),
            "first_stop_reached": result.first_stop_reached,
            "method": result.method,
        }
    )


def _initial_stop_order(
    session: Session, trade: Trade, entry_order: str | None
) -> StopOrder | None:
    """The order of the trade's initial stop, as the rebuild chose it (risk.py)."""
    stops = repository.stop_orders(
        session,
        trade.run_id,
        trade.symbol,
        trade.entry_ts,
        trade.entry_ts,
        {entry_order} if entry_order else set(),
    )
    return initial_stop_order(trade.direction, trade.entry_ts, entry_order, stops)


def trade_orders(session: Session, user_id: int, trade_id: int) -> TradeOrdersRead:
    """The trade's orders with their timelines and slippage, and its stop moves."""
    trade = _trade(session, user_id, trade_id)
    parts = repository.trade_fills(session, trade.id)
    roles: dict[str, str] = {}
    exit_orders: set[str] = set()
    entry_order: str | None = None
    for execution, role, _qty, _fee in parts:
        if execution.id == trade.id:
            entry_order = execution.order_id
        if execution.order_id:
            roles.setdefault(execution.order_id, role)
            if role == "exit":
                exit_orders.add(execution.order_id)
    fill_orders = sorted(roles)
    exit_side = "sell" if trade.direction == "long" else "buy"
    stop_ids = orders_repo.protective_stop_ids(
        session, trade.run_id, trade.symbol, exit_side, trade.entry_ts, trade.exit_ts, fill_orders
    )
    first = _initial_stop_order(session, trade, entry_order)
    if first is not None and first.order_id not in stop_ids:
        stop_ids.insert(0, first.order_id)
    children = [o.order_id for o in repository.related_orders(session, trade.run_id, fill_orders)]
    wanted = sorted({*fill_orders, *stop_ids, *children})
    records, analyses, instruments = _analyse(session, user_id, trade.run_id, wanted)
    by_id = {r.order_id: r for r in records}
    chain = [by_id[i] for i in stop_ids if i in by_id and by_id[i].order_type in _STOP_TYPES]
    stops = set(stop_ids)
    info = instruments.get(trade.symbol) or orders_repo.instrument(session, user_id, trade.symbol)
    return TradeOrdersRead(
        trade_id=trade.id,
        multiplier=trade.multiplier,
        tick_size=info.tick_size,
        orders=[
            _order_read(a, roles.get(a.order_id) or ("stop" if a.order_id in stops else "linked"))
            for a in analyses
        ],
        stop=_stop_moves_read(_stop_moves(trade, exit_orders, chain)),
    )


def _part(part: Part) -> ExplainPart:
    return ExplainPart(
        trade_id=part.trade_id,
        role=part.role,
        qty=float(part.qty),
        commission=float(part.commission),
        commission_units=int(part.commission.scaleb(8)),
    )


def explain_trade(session: Session, user_id: int, trade_id: int) -> TradeExplanation:
    """Why these fills are this trade: the replay, the commission split, the bars of
    MFE/MAE and the initial stop (backend/trades/explain.py)."""
    trade = _trade(session, user_id, trade_id)
    crossing = orders_repo.crossing_part(session, trade.id)
    rows = orders_repo.position_fills(
        session,
        trade.run_id,
        trade.account,
        trade.symbol,
        trade.id,
        trade.exit_ts,
        MAX_EXPLAIN_FILLS + 1,
    )
    truncated = len(rows) > MAX_EXPLAIN_FILLS
    fills = [
        ExplainFill(Fill(e.id, e.ts, e.side, e.qty, e.price, e.commission), e.exec_id, e.order_id)
        for e in rows[:MAX_EXPLAIN_FILLS]
    ]
    replay = explain(
        fills, trade.multiplier, None if crossing is None else Crossing(crossing[0], crossing[1])
    )
    steps = [
        ExplainStep.model_validate(
            {
                "seq": s.fill.fill.seq,
                "fill_id": s.fill.exec_id,
                "order_id": s.fill.order_id,
                "ts": format_ts(s.fill.fill.ts),
                "side": s.fill.fill.side,
                "qty": s.fill.fill.qty,
                "price": s.fill.fill.price,
                "commission": float(s.commission),
                "commission_units": int(s.commission.scaleb(8)),
                "position_before": float(s.position_before),
                "position_after": float(s.position_after),
                "action": s.action,
                "part": _part(s.part),
                "other": None if s.other is None else _part(s.other),
                "commission_split": s.split,
            }
        )
        for s in replay.steps
    ]
    result, differences = None, ["the replay found no fill of this trade"]
    if replay.trade is not None:
        t = replay.trade
        result = ExplainResult(
            qty=float(t.qty),
            entry_price=float(t.entry_price),
            exit_price=None if t.exit_price is None else float(t.exit_price),
            gross_pnl=float(t.gross_pnl),
            commission=float(t.commission),
            net_pnl=float(t.net_pnl),
            exit_ts=_ts(t.exit_ts),
        )
        stored = {
            "qty": trade.qty,
            "entry_price": float(trade.entry_price),
            "exit_price": None if trade.exit_price is None else float(trade.exit_price),
            "gross_pnl": float(trade.gross_pnl),
            "commission": float(trade.commission),
            "net_pnl": float(trade.net_pnl),
            "exit_ts": _ts(trade.exit_ts),
        }
        replayed = result.model_dump()
        differences = [
            f"{name}: stored {stored[name]}, replayed {replayed[name]}"
            for name in stored
            if stored[name] != replayed[name]
        ]
        if truncated and differences:
            differences.insert(0, f"only the first {MAX_EXPLAIN_FILLS} fills are replayed")
    return TradeExplanation(
        trade_id=trade.id,
        run_id=trade.run_id,
        account=trade.account,
        symbol=trade.symbol,
        direction=trade.direction,
        multiplier=trade.multiplier,
        steps=steps,
        truncated=truncated,
        result=result,
        consistent=not differences,
        consistency="; ".join(differences) if differences else "the replay gives the stored trade",
        excursions=_excursions(session, user_id, trade),
        initial_stop=_initial_stop(session, user_id, trade, fills[0].order_id if fills else None),
    )


def _excursions(session: Session, user_id: int, trade: Trade) -> ExplainExcursions | None:
    series = bars.series_by_timeframe(session, user_id, trade.symbol)
    if not series:
        return None
    timeframe_s = min(series)
    bar_ts, _o, high, low, _c = bars.price_arrays(
        session, series[timeframe_s], trade.entry_ts, trade.exit_ts
    )
    exit_price = None if trade.exit_price is None or trade.is_open else float(trade.exit_price)
    found = excursion_bars(
        trade.direction,
        float(trade.entry_price),
        exit_price,
        trade.entry_ts,
        None if trade.is_open else trade.exit_ts,
        bar_ts,
        high,
        low,
        timeframe_s,
    )
    return ExplainExcursions.model_validate(
        {
            "timeframe": format_timeframe(timeframe_s),
            "bar_count": found.bar_count,
            "first_bar_ts": _ts(found.first_bar_ts),
            "last_bar_ts": _ts(found.last_bar_ts),
            "high_bar_ts": _ts(found.high_bar_ts),
            "high": found.high,
            "low_bar_ts": _ts(found.low_bar_ts),
            "low": found.low,
            "mfe": found.mfe,
            "mae": found.mae,
            "mfe_from": found.mfe_from,
            "mae_from": found.mae_from,
        }
    )


def _initial_stop(
    session: Session, user_id: int, trade: Trade, entry_order: str | None
) -> ExplainInitialStop:
    order = _initial_stop_order(session, trade, entry_order)
    _multiplier, default_risk = repository.instrument(session, user_id, trade.symbol)
    risk = None if trade.initial_risk is None else float(trade.initial_risk)
    if order is not None:
        linked = entry_order is not None and order.parent_id == entry_order
        return ExplainInitialStop(
            source="stop_order",
            order_id=order.order_id,
            placed_ts=format_ts(order.placed_ts),
            stop_price=order.first_stop_price,
            linked_by="parent_id" if linked else "working_at_entry",
            default_risk=default_risk,
            initial_risk=risk,
            r_multiple=trade.r_multiple,
        )
    return ExplainInitialStop(
        source="default_risk" if default_risk is not None else "none",
        order_id=None,
        placed_ts=None,
        stop_price=None,
        linked_by=None,
        default_risk=default_risk,
        initial_risk=risk,
        r_multiple=trade.r_multiple,
    )


def _metrics(
    orders: Sequence[OrderAnalysis], instruments: dict[str, InstrumentInfo]
) -> OrderMetricsRead:
    def tick(symbol: str) -> float | None:
        info = instruments.get(symbol)
        return None if info is None else info.tick_size

    return OrderMetricsRead.model_validate(order_metrics(orders, tick))


def run_order_analytics(
    session: Session, user_id: int, timezone: str, run_id: int, by: str
) -> RunOrderAnalytics:
    """Order metrics of a run, per `by` group, and the effect of its stop moves."""
    runs.get_run(session, user_id, run_id)  # 404 for a run that is not the caller's
    records, analyses, instruments = _analyse(session, user_id, run_id, None)
    try:
        groups = order_groups(analyses, by, ZoneInfo(timezone or "UTC"))
    except ValueError as exc:
        raise InvalidPayload(str(exc)) from None
    return RunOrderAnalytics(
        run_id=run_id,
        by=by,
        timezone=timezone or "UTC",
        metrics=_metrics(analyses, instruments),
        stops=_stop_summary(session, run_id, records),
        groups=[OrderGroupRead(key=k, metrics=_metrics(v, instruments)) for k, v in groups.items()],
    )


def _stop_summary(
    session: Session, run_id: int, records: Sequence[OrderRecord]
) -> StopMoveSummaryRead:
    """Stop moves of every closed trade of the run, with the same choice of stops as the
    trade page (`trade_orders`), from rows read once."""
    trades = session.scalars(
        select(Trade).where(Trade.run_id == run_id, Trade.is_open.is_(False)).order_by(Trade.id)
    ).all()
    linked: dict[int, set[str]] = defaultdict(set)
    exits: dict[int, set[str]] = defaultdict(set)
    first_order: dict[int, str | None] = {}
    for trade_id, execution_id, role, order_id in session.execute(
        select(TradeFill.trade_id, TradeFill.execution_id, TradeFill.role, Execution.order_id)
        .join(Execution, Execution.id == TradeFill.execution_id)
        .join(Trade, Trade.id == TradeFill.trade_id)
        .where(Trade.run_id == run_id, Trade.is_open.is_(False))
    ):
        if execution_id == trade_id:
            first_order[trade_id] = order_id
        if order_id:
            linked[trade_id].add(order_id)
            if role == "exit":
                exits[trade_id].add(order_id)
    stops = [r for r in records if r.order_type in _STOP_TYPES]
    by_id = {r.order_id: r for r in stops}
    by_parent: dict[str, list[OrderRecord]] = defaultdict(list)
    for r in stops:
        if r.parent_id is not None:
            by_parent[r.parent_id].append(r)
    placed: dict[tuple[str, str], list[OrderRecord]] = defaultdict(list)
    for r in stops:  # records come by placement
        placed[(r.symbol, r.side)].append(r)
    placed_ts = {key: [r.events[0].ts for r in rs] for key, rs in placed.items()}
    initial = initial_stop_orders(
        [(t.direction, t.entry_ts, first_order.get(t.id)) for t in trades],
        [_stop_order(r) for r in stops],
    )
    counts = {"helped": 0, "hurt": 0, "no_effect": 0, "unknown": 0}
    moved, effect = 0, Decimal(0)
    for trade, first in zip(trades, initial, strict=True):
        key = (trade.symbol, "sell" if trade.direction == "long" else "buy")
        rs, ts = placed.get(key, []), placed_ts.get(key, [])
        lo = bisect_left(ts, trade.entry_ts - PLACEMENT_GRACE_NS)
        hi = bisect_right(ts, trade.exit_ts if trade.exit_ts is not None else ts[-1] if ts else 0)
        chosen: dict[str, OrderRecord] = {}
        if first is not None and first.order_id in by_id:
            chosen[first.order_id] = by_id[first.order_id]
        for r in rs[lo:hi]:
            finished = _stop_order(r).finished_ts
            if finished is None or finished > trade.entry_ts:
                chosen.setdefault(r.order_id, r)
        for order_id in linked.get(trade.id, ()):
            for r in [
                *by_parent.get(order_id, []),
                *([by_id[order_id]] if order_id in by_id else []),
            ]:
                if r.symbol == trade.symbol and r.side == key[1]:
                    chosen.setdefault(r.order_id, r)
        chain = sorted(chosen.values(), key=lambda r: (r.events[0].ts, r.events[0].seq))
        result = _stop_moves(trade, exits.get(trade.id, set()), chain)
        if not result.moves:
            continue
        moved += 1
        counts[result.verdict] = counts.get(result.verdict, 0) + 1
        if result.effect is not None:
            effect += result.effect
    judged = moved - counts["unknown"]
    return StopMoveSummaryRead(
        stop_moved_trades=moved,
        stop_move_judged_trades=judged,
        stop_move_effect=float(effect) if judged else None,
        **counts,
    )
