import { describe, expect, it } from "vitest";
import { derivationSummary } from "./DerivationNote";

const failed = { run_id: 3, symbol: "MESZ3", account: "", error: "RuntimeError: boom", since: "2026-12-03T15:00:00Z", attempts: 2, retry_at: null };

describe("derivationSummary", () => {
  it("says nothing when every position is derived", () => {
    expect(derivationSummary({ state: "derived", pending_positions: 0, failed_positions: [] })).toBeNull();
    expect(derivationSummary(undefined)).toBeNull();
  });
  it("counts positions still being rebuilt", () => {
    expect(derivationSummary({ state: "pending", pending_positions: 2, failed_positions: [] })).toBe(
      "2 positions are still being rebuilt; the trades and figures below may change.",
    );
  });
  it("names failures beside pending ones", () => {
    expect(derivationSummary({ state: "failed", pending_positions: 1, failed_positions: [failed] })).toBe(
      "1 position is still being rebuilt; the trades and figures below may change. 1 position could not be rebuilt; their trades are missing or out of date.",
    );
  });
});
