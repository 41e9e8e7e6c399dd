import { api, unwrap } from "../api/client";
import { dateTime, duration, money, num } from "../lib/format";
import { useLoad } from "../lib/hooks";
import {
  commissionText,
  excursionText,
  initialStopText,
  positionText,
  slippageText,
  splitsAddUp,
  stepText,
  stopVerdictText,
  timelineText,
} from "../lib/tradeExplain";
import { ErrorNote, Loading } from "./Layout";

/** The trade's orders: each one's timeline, slippage and latency, and its stop moves. */
export function OrdersPanel({ tradeId, reloadKey }: { tradeId: number; reloadKey: unknown }) {
  const load = useLoad((signal) => unwrap(api.GET("/api/trades/{trade_id}/orders", { params: { path: { trade_id: tradeId } }, signal })), [tradeId, reloadKey]);
  if (load.error) return <ErrorNote error={load.error} />;
  if (!load.data) return <Loading />;
  const { orders, stop } = load.data;
  return (
    <div data-testid="orders-panel">
      {orders.length === 0 && <p className="dim">No orders were sent for these fills.</p>}
      {orders.map((o) => (
        <article key={o.order_id} className="order-card" data-order={o.order_id}>
          <h3>
            {o.order_id} · {o.side} {o.order_type} · {o.role} · {o.status}
          </h3>
          <div className="table-wrap">
            <table className="compact">
              <tbody>
                <tr>
                  <th>Slippage vs {o.order_type === "limit" ? "limit" : "stop"}</th>
                  <td data-testid="slip-order">{o.order_type === "market" ? "— (market order)" : slippageText(o.slippage_vs_order)}</td>
                </tr>
                <tr>
                  <th>Slippage vs last close{o.slippage_vs_close ? ` ${num(o.slippage_vs_close.reference, 4)}` : ""}</th>
                  <td data-testid="slip-close">{slippageText(o.slippage_vs_close)}</td>
                </tr>
                <tr>
                  <th>Order to first fill</th>
                  <td>{o.latency_seconds === null ? "—" : duration(o.latency_seconds)}</td>
                </tr>
                <tr>
                  <th>Modifications</th>
                  <td>
                    {o.modifications}
                    {o.cancelled ? " · cancelled" : ""}
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
          <ol className="timeline">
            {o.timeline.map((s, i) => (
              <li key={i} className={s.kind === "fill" ? "fill" : s.kind}>
                <span className="dim">{dateTime(s.ts)}</span> {timelineText(s)}
              </li>
            ))}
          </ol>
        </article>
      ))}
      <p data-testid="stop-verdict">{stopVerdictText(stop)}</p>
      {stop.moves.length > 0 && (
        <ul className="dim">
          {stop.moves.map((m, i) => (
            <li key={i}>
              {dateTime(m.ts)}: stop {num(m.from_price, 4)} → {num(m.to_price, 4)} ({m.tighter ? "tighter" : "looser"})
            </li>
          ))}
        </ul>
      )}
      {stop.moves.length > 0 && <p className="dim">How: {stop.method}.</p>}
    </div>
  );
}

/** Why is this a trade: the reconstruction, fill by fill, with its splits and MFE/MAE bars. */
export function ExplainPanel({ tradeId, reloadKey }: { tradeId: number; reloadKey: unknown }) {
  const load = useLoad((signal) => unwrap(api.GET("/api/trades/{trade_id}/explain", { params: { path: { trade_id: tradeId } }, signal })), [tradeId, reloadKey]);
  if (load.error) return <ErrorNote error={load.error} />;
  if (!load.data) return <Loading />;
  const e = load.data;
  return (
    <div data-testid="explain-panel">
      <p className="dim">
        Fills of {e.symbol}
        {e.account ? ` (account ${e.account})` : ""} in time order, starting flat: a trade runs from flat to flat; a fill that crosses zero closes it and opens the next.
      </p>
      <ol data-testid="explain-steps">
        {e.steps.map((s) => (
          <li key={s.seq}>
            <strong>{dateTime(s.ts)}</strong> {stepText(s)} <span className="dim">({commissionText(s)})</span>
          </li>
        ))}
      </ol>
      {e.truncated && <p className="dim">Only the first {e.steps.length} fills are shown.</p>}
      <div className="table-wrap">
        <table className="compact" data-testid="explain-table">
          <thead>
            <tr>
              <th>Fill</th>
              <th>Position after</th>
              <th className="num">Qty here</th>
              <th className="num">Commission here</th>
              <th>Other trade</th>
            </tr>
          </thead>
          <tbody>
            {e.steps.map((s) => (
              <tr key={s.seq}>
                <td>{s.fill_id}</td>
                <td>{positionText(s.position_after)}</td>
                <td className="num">{num(s.part.qty, 8)}</td>
                <td className="num">{money(s.part.commission, 8)}</td>
                <td>{s.other ? `#${s.other.trade_id}: ${num(s.other.qty, 8)}, ${money(s.other.commission, 8)}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p data-testid="explain-consistency" className={e.consistent ? "dim" : "neg"}>
        {e.consistent ? "Replayed with the rebuild's code: the same trade as stored." : `The replay differs from the stored trade (a rebuild may be pending): ${e.consistency}`}
        {splitsAddUp(e.steps) ? " Every commission split adds up exactly." : ""}
      </p>
      <p data-testid="explain-excursions">{excursionText(e.excursions, e.direction)}</p>
      {e.excursions && e.excursions.bar_count > 0 && (
        <p className="dim">
          Bars {dateTime(e.excursions.first_bar_ts)} → {dateTime(e.excursions.last_bar_ts)}; high {num(e.excursions.high, 4)} at {dateTime(e.excursions.high_bar_ts)}, low {num(e.excursions.low, 4)} at {dateTime(e.excursions.low_bar_ts)}.
        </p>
      )}
      <p data-testid="explain-stop">{initialStopText(e.initial_stop)}</p>
    </div>
  );
}
