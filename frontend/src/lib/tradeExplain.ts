import type { Schemas } from "../api/client";
import { money, num } from "./format";

export type Explanation = Schemas["TradeExplanation"];
export type ExplainStep = Schemas["ExplainStep"];
export type TradeOrders = Schemas["TradeOrdersRead"];
export type OrderAnalysis = Schemas["OrderAnalysisRead"];
export type TimelineStep = Schemas["TimelineStepRead"];

/** A signed position as words: "flat", "long 2", "short 1.5". */
export function positionText(position: number): string {
  if (position === 0) return "flat";
  return `${position > 0 ? "long" : "short"} ${num(Math.abs(position), 8)}`;
}

function qty(value: number): string {
  return num(value, 8);
}

/** What one fill did to the trade, in one sentence. */
export function stepText(step: ExplainStep): string {
  const fill = `${step.side === "buy" ? "Buy" : "Sell"} ${qty(step.qty)} @ ${num(step.price, 4)}`;
  const move = `${positionText(step.position_before)} → ${positionText(step.position_after)}`;
  const other = step.other;
  switch (step.action) {
    case "open":
      return `${fill}: ${move}, opens trade #${step.part.trade_id}.`;
    case "scale_in":
      return `${fill}: ${move}, adds to the position (scale-in).`;
    case "partial_exit":
      return `${fill}: ${move}, a partial exit; the trade stays open.`;
    case "close":
      return `${fill}: ${move}, closes the trade.`;
    case "reverse":
      return `${fill}: ${move}, crosses zero: ${qty(step.part.qty)} close this trade, ${qty(other?.qty ?? 0)} open trade #${other?.trade_id}.`;
    case "opened_by_reversal":
      return `${fill}: ${move}, crosses zero: ${qty(other?.qty ?? 0)} closed trade #${other?.trade_id}, ${qty(step.part.qty)} open this trade.`;
  }
}

/** How the fill's commission was divided; exact in 1e-8 units (the parts add up to the whole). */
export function commissionText(step: ExplainStep): string {
  if (step.commission_split === "whole" || !step.other) return `commission ${money(step.commission, 8)}, all in this trade`;
  const whole = money(step.commission, 8);
  const mine = money(step.part.commission, 8);
  const theirs = money(step.other.commission, 8);
  // The closing part is computed (pro rata, half-even to 1e-8); the opening part is the remainder.
  if (step.action === "reverse") {
    return `commission ${whole} split by quantity: ${whole} × ${qty(step.part.qty)}/${qty(step.qty)} = ${mine} (half-even to 1e-8) closes this trade, the remaining ${theirs} goes to trade #${step.other.trade_id}`;
  }
  return `commission ${whole} split by quantity: ${whole} × ${qty(step.other.qty)}/${qty(step.qty)} = ${theirs} (half-even to 1e-8) closed trade #${step.other.trade_id}, the remaining ${mine} is this trade's`;
}

/** True when every step's parts add up exactly (in 1e-8 units) to the fill's commission. */
export function splitsAddUp(steps: ExplainStep[]): boolean {
  return steps.every((s) => s.part.commission_units + (s.other?.commission_units ?? 0) === s.commission_units);
}

const FROM = { bar: "a bar", entry: "the entry price", exit: "the exit price" } as const;

/** The MFE/MAE sentence: which bars count and where each extreme came from. */
export function excursionText(ex: Explanation["excursions"], direction: "long" | "short"): string {
  if (!ex) return "No bars are stored for this symbol: MFE and MAE are not measured.";
  if (ex.bar_count === 0) return `No ${ex.timeframe} bar lies wholly inside the trade: only the entry and exit prices count.`;
  const favourable = direction === "long" ? "high" : "low";
  return `${ex.bar_count} ${ex.timeframe} bar${ex.bar_count === 1 ? "" : "s"} lie wholly inside the trade (the bars of the entry and exit are left out); MFE ${num(ex.mfe, 4)} comes from ${FROM[ex.mfe_from]}, MAE ${num(ex.mae, 4)} from ${FROM[ex.mae_from]} (the favourable side is the ${favourable}).`;
}

/** Where the initial stop for R came from. */
export function initialStopText(stop: Explanation["initial_stop"]): string {
  if (stop.source === "stop_order") {
    const how = stop.linked_by === "parent_id" ? "linked to the entry order" : "working when the trade opened";
    return `Initial stop ${num(stop.stop_price, 4)}: the first price of stop order ${stop.order_id} (${how}); risk ${money(stop.initial_risk)}.`;
  }
  if (stop.source === "default_risk") return `No stop order: the instrument's default risk ${num(stop.default_risk, 4)} stands in; risk ${money(stop.initial_risk)}.`;
  return "No stop order and no default risk: the trade has no R.";
}

const KIND = {
  placed: "placed",
  modified: "modified",
  status: "status",
  partially_filled: "partially filled",
  filled: "filled",
  cancelled: "cancelled",
  rejected: "rejected",
  expired: "expired",
  fill: "fill",
} as const;

/** One line of an order's timeline. */
export function timelineText(step: TimelineStep): string {
  if (step.kind === "fill") return `fill ${step.fill_id}: ${qty(step.qty ?? 0)} @ ${num(step.fill_price, 4)}`;
  const prices = [step.limit_price !== null ? `limit ${num(step.limit_price, 4)}` : null, step.stop_price !== null ? `stop ${num(step.stop_price, 4)}` : null].filter(Boolean).join(", ");
  const changed = step.kind === "modified" && step.changes.length ? ` (${step.changes.map((c) => c.replace("_price", "")).join(", ")} changed)` : "";
  return `${KIND[step.kind]}${changed}: qty ${qty(step.qty ?? 0)}${prices ? `, ${prices}` : ""}`;
}

/** Slippage as "+0.25 (1 tick, $25.00)": positive is worse for the trader. */
export function slippageText(slip: OrderAnalysis["slippage_vs_order"]): string {
  if (!slip) return "—";
  const sign = slip.price > 0 ? "+" : "";
  const ticks = slip.ticks === null ? "" : `${sign}${num(slip.ticks, 2)} tick${Math.abs(slip.ticks) === 1 ? "" : "s"}, `;
  return `${sign}${num(slip.price, 4)} (${ticks}${money(slip.amount)})`;
}

const VERDICT = {
  no_stop: "No protective stop.",
  not_moved: "The stop was never moved.",
  open: "The trade is open: the stop moves are not judged yet.",
  helped: "Moving the stop helped",
  hurt: "Moving the stop hurt",
  no_effect: "Moving the stop changed nothing",
  unknown: "Unknown: the first stop was never reached, and the moved stop took the trade out",
} as const;

/** The stop-moves verdict in a sentence. */
export function stopVerdictText(stop: TradeOrders["stop"]): string {
  const base = VERDICT[stop.verdict];
  if (stop.effect === null || !["helped", "hurt", "no_effect"].includes(stop.verdict)) return base;
  const against = stop.counterfactual_gross_pnl === null ? "" : ` against ${money(stop.counterfactual_gross_pnl)} gross had the first stop ${num(stop.first_stop, 4)} stayed`;
  return `${base}: ${stop.effect > 0 ? "+" : ""}${money(stop.effect)}${against}.`;
}
