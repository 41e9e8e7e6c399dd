import { describe, expect, it } from "vitest";
import type { ExplainStep, TimelineStep, TradeOrders } from "./tradeExplain";
import { commissionText, excursionText, initialStopText, positionText, slippageText, splitsAddUp, stepText, stopVerdictText, timelineText } from "./tradeExplain";

const part = (trade_id: number, role: "entry" | "exit", qty: number, commission: number) => ({ trade_id, role, qty, commission, commission_units: Math.round(commission * 1e8) });

const reverse: ExplainStep = {
  seq: 7, fill_id: "m4", order_id: null, ts: "2023-12-15T14:13:00Z", side: "sell", qty: 3, price: 102,
  commission: 1, commission_units: 100000000, position_before: 2, position_after: -1, action: "reverse",
  part: part(4, "exit", 2, 0.66666667), other: part(7, "entry", 1, 0.33333333), commission_split: "pro_rata",
};

describe("explanation steps", () => {
  it("says what each fill did", () => {
    expect(positionText(0)).toBe("flat");
    expect(positionText(-1.5)).toBe("short 1.5");
    expect(positionText(100)).toBe("long 100");
    expect(stepText(reverse)).toBe("Sell 3 @ 102: long 2 → short 1, crosses zero: 2 close this trade, 1 open trade #7.");
    expect(stepText({ ...reverse, action: "opened_by_reversal", part: part(7, "entry", 1, 0.33333333), other: part(4, "exit", 2, 0.66666667) })).toBe(
      "Sell 3 @ 102: long 2 → short 1, crosses zero: 2 closed trade #4, 1 open this trade.",
    );
    expect(stepText({ ...reverse, action: "scale_in", side: "buy", qty: 2, price: 101, position_before: 1, position_after: 3, other: null })).toBe("Buy 2 @ 101: long 1 → long 3, adds to the position (scale-in).");
  });

  it("shows the commission split exactly, and checks it adds up", () => {
    expect(commissionText(reverse)).toBe("commission $1.00000000 split by quantity: $1.00000000 × 2/3 = $0.66666667 (half-even to 1e-8) closes this trade, the remaining $0.33333333 goes to trade #7");
    const opened = { ...reverse, action: "opened_by_reversal" as const, part: part(7, "entry", 1, 0.33333333), other: part(4, "exit", 2, 0.66666667) };
    expect(commissionText(opened)).toBe("commission $1.00000000 split by quantity: $1.00000000 × 2/3 = $0.66666667 (half-even to 1e-8) closed trade #4, the remaining $0.33333333 is this trade's");
    expect(commissionText({ ...reverse, other: null, commission_split: "whole" })).toBe("commission $1.00000000, all in this trade");
    expect(splitsAddUp([reverse])).toBe(true);
    expect(splitsAddUp([{ ...reverse, other: part(7, "entry", 1, 0.33333334) }])).toBe(false);
  });

  it("names the bars of MFE and MAE and the initial stop", () => {
    const ex = { timeframe: "1m", bar_count: 4, first_bar_ts: "", last_bar_ts: "", high_bar_ts: "", high: 4706, low_bar_ts: "", low: 4698, mfe: 5.875, mae: 2.125, mfe_from: "bar", mae_from: "exit" } as const;
    expect(excursionText(ex, "long")).toBe("4 1m bars lie wholly inside the trade (the bars of the entry and exit are left out); MFE 5.875 comes from a bar, MAE 2.125 from the exit price (the favourable side is the high).");
    expect(excursionText(null, "short")).toBe("No bars are stored for this symbol: MFE and MAE are not measured.");
    expect(initialStopText({ source: "stop_order", order_id: "s1", placed_ts: "", stop_price: 4699, linked_by: "parent_id", default_risk: null, initial_risk: 112.5, r_multiple: 1.4 })).toBe(
      "Initial stop 4,699: the first price of stop order s1 (linked to the entry order); risk $112.50.",
    );
    expect(initialStopText({ source: "none", order_id: null, placed_ts: null, stop_price: null, linked_by: null, default_risk: null, initial_risk: null, r_multiple: null })).toBe("No stop order and no default risk: the trade has no R.");
  });
});

describe("orders panel", () => {
  const step: TimelineStep = { ts: "", kind: "modified", status: "working", qty: 2, limit_price: 4700.25, stop_price: null, fill_price: null, fill_id: null, changes: ["limit_price"] };
  it("writes each timeline entry", () => {
    expect(timelineText(step)).toBe("modified (limit changed): qty 2, limit 4,700.25");
    expect(timelineText({ ...step, kind: "fill", qty: 1, fill_price: 4700, fill_id: "x1", limit_price: null, changes: [] })).toBe("fill x1: 1 @ 4,700");
  });
  it("signs slippage: positive is worse", () => {
    expect(slippageText({ reference: 4702, price: 0.25, amount: 25, ticks: 1, qty: 2 })).toBe("+0.25 (+1 tick, $25.00)");
    expect(slippageText({ reference: 4700.25, price: -0.125, amount: -12.5, ticks: -0.5, qty: 2 })).toBe("-0.125 (-0.5 ticks, -$12.50)");
    expect(slippageText({ reference: 1, price: 0.5, amount: 0.5, ticks: null, qty: 1 })).toBe("+0.5 ($0.50)");
    expect(slippageText(null)).toBe("—");
  });
  it("states the stop verdict", () => {
    const stop: TradeOrders["stop"] = { first_stop: 4699, first_order_id: "s1", last_stop: 4702, moves: [], verdict: "helped", effect: 275, counterfactual_gross_pnl: -112.5, first_stop_reached: true, method: "" };
    expect(stopVerdictText(stop)).toBe("Moving the stop helped: +$275.00 against -$112.50 gross had the first stop 4,699 stayed.");
    expect(stopVerdictText({ ...stop, verdict: "unknown", effect: null })).toBe("Unknown: the first stop was never reached, and the moved stop took the trade out");
  });
});
