import { describe, expect, it } from "vitest";
import { changesOf, formOf, localConflict, repriceWarning } from "./instruments";

const STORED = { symbol: "SYNMES", multiplier: 5, tick_size: 0.25, currency: "USD", asset_class: null, default_risk: null, updated_at: "2026-01-01T00:00:00Z", run_count: 3, trade_count: 12 };

describe("instrument form", () => {
  it("sends only what changed, an emptied field as null", () => {
    const before = formOf(STORED);
    expect(before).toEqual({ multiplier: "5", tick_size: "0.25", currency: "USD", asset_class: "", default_risk: "" });
    expect(changesOf(before, { ...before, multiplier: "2", currency: "", default_risk: "1.5" })).toEqual({
      body: { multiplier: 2, currency: null, default_risk: 1.5 },
      errors: {},
    });
    expect(changesOf(before, before)).toEqual({ body: {}, errors: {} });
  });

  it("names bad numbers and refuses an empty multiplier", () => {
    const before = formOf(STORED);
    const { errors } = changesOf(before, { ...before, multiplier: "", tick_size: "-1" });
    expect(Object.keys(errors).sort()).toEqual(["multiplier", "tick_size"]);
  });

  it("words the re-pricing warning from the 409", () => {
    const text = repriceWarning({ error: "conflict", detail: "x", affected: { runs: 3, trades: 12 }, changes: { multiplier: { from: 5, to: 1 } } });
    expect(text).toBe("multiplier 5 → 1: re-prices 12 trades in 3 runs (their P&L, R and excursions are derived again).");
  });
});

describe("localConflict", () => {
  it("warns before a multiplier or default risk change of an instrument with trades", () => {
    expect(localConflict(STORED, { multiplier: 1, currency: "EUR" })).toEqual({
      error: "conflict", detail: "", affected: { runs: 3, trades: 12 }, changes: { multiplier: { from: 5, to: 1 } },
    });
    expect(localConflict(STORED, { default_risk: 2 })?.changes).toEqual({ default_risk: { from: null, to: 2 } });
    expect(localConflict(STORED, { tick_size: 0.5, currency: "EUR" })).toBeNull();
    expect(localConflict({ ...STORED, trade_count: 0, run_count: 0 }, { multiplier: 1 })).toBeNull();
  });
});
