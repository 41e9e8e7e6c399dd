import { describe, expect, it } from "vitest";
import { costsFor, DEFAULT_COSTS, settingsOf } from "./Backtests";

const SYNMES = { symbol: "SYNMES", multiplier: 5, tick_size: 0.25, currency: "USD", asset_class: null, default_risk: null, updated_at: "2026-01-01T00:00:00Z", run_count: 1, trade_count: 4 };

describe("backtest costs", () => {
  it("prefills multiplier and tick from the stored instrument, defaults without one", () => {
    const costs = { ...DEFAULT_COSTS, commission: "0.62" };
    expect(costsFor(SYNMES, costs)).toEqual({ ...costs, multiplier: "5", tick_size: "0.25" });
    expect(costsFor(undefined, { ...costs, multiplier: "5" })).toEqual({ ...costs, multiplier: "1", tick_size: "0.01" });
  });

  it("leaves a stored instrument's multiplier and tick out of the settings", () => {
    const costs = { multiplier: "5", tick_size: "0.25", commission: "0.62", slippage_ticks: "1", initial_capital: "25000" };
    expect(settingsOf(costs, true)).toEqual({ settings: { commission: 0.62, slippage_ticks: 1, initial_capital: 25000 }, errors: {} });
    expect(settingsOf(costs, false).settings).toEqual({ multiplier: 5, tick_size: 0.25, commission: 0.62, slippage_ticks: 1, initial_capital: 25000 });
  });

  it("names each bad field", () => {
    const { settings, errors } = settingsOf({ multiplier: "0", tick_size: "x", commission: "-1", slippage_ticks: "", initial_capital: "1" }, false);
    expect(settings).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(["commission", "multiplier", "slippage_ticks", "tick_size"]);
  });
});
