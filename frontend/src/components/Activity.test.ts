import { describe as suite, expect, it } from "vitest";
import { describe } from "./Activity";

suite("activity lines", () => {
  it("summarises each kind of stream message", () => {
    expect(describe({ type: "ingested", run_id: 1, accepted: 1234, duplicates: 0, rejected: 2, run_ended: true })).toBe(
      "1,234 events stored, 2 rejected; run ended",
    );
    expect(describe({ type: "position_derived", run_id: 1, symbol: "MESZ3", account: "" })).toBe("trades rebuilt for MESZ3");
    expect(describe({ type: "training_progress", job_id: 4, status: "running", progress: 0.5 })).toBe("training job 4: running 50%");
    expect(describe({ type: "trade_updated", trade_id: 9, run_id: 1 })).toBe("journal of trade 9 edited");
  });
  it("leaves out messages that say nothing to a person", () => {
    expect(describe({ type: "hello", user_id: 1 })).toBeNull();
    expect(describe({ type: "overflow", dropped: 3 })).toBeNull();
  });
});
