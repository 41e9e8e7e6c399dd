import { describe, expect, it } from "vitest";
import { errorBar, intervalOf, intervalText, thin, type Interval } from "./intervals";

const wide: Interval = { ci_low: 0.4088, ci_high: 0.7925, n: 21, level: 0.95, method: "wilson", enough: false, reason: "21 trades; an interval needs at least 30 to mean anything" };

describe("intervals", () => {
  it("reads a row's interval and the metrics document's", () => {
    expect(intervalOf({ key: "ES", intervals: { win_rate: wide } }, "win_rate")).toBe(wide);
    expect(intervalOf({ confidence: { intervals: { win_rate: wide } } }, "win_rate")).toBe(wide);
    expect(intervalOf({ key: "ES" }, "win_rate")).toBeUndefined();
  });

  it("says the interval in the metric's unit", () => {
    expect(intervalText(wide, { unit: "fraction" })).toBe("95 % interval 40.9% to 79.3% (n = 21)");
    expect(intervalText({ ...wide, ci_high: null }, { unit: "ratio" })).toBe("95 % interval 0.41 to unbounded (n = 21)");
    expect(intervalText({ ...wide, ci_low: null, ci_high: null, reason: "no losing trades" }, { unit: "ratio" })).toBe("no losing trades");
  });

  it("gives error-bar lengths and flags thin rows", () => {
    const bar = errorBar(0.619, wide);
    expect(bar?.[0]).toBeCloseTo(0.2102, 10);
    expect(bar?.[1]).toBeCloseTo(0.1735, 10);
    expect(errorBar(null, wide)).toBeUndefined();
    expect(errorBar(1, { ...wide, ci_high: null })).toBeUndefined();
    expect(thin({ intervals: { win_rate: wide } })).toBe("21 trades; an interval needs at least 30 to mean anything");
    expect(thin({ intervals: { win_rate: { ...wide, enough: true, reason: null } } })).toBeNull();
  });
});
