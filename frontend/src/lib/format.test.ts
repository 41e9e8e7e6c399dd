import { describe, expect, it } from "vitest";
import { dateTime, duration, label, metricValue, money, num, percent, pnlClass, setTimeZone } from "./format";

describe("format", () => {
  it("formats money with sign and grouping", () => {
    expect(money(1234.5)).toBe("$1,234.50");
    expect(money(-0.744)).toBe("-$0.74");
    expect(money(null)).toBe("—");
    expect(money(NaN)).toBe("—");
  });
  it("formats fractions as percent", () => {
    expect(percent(0.25)).toBe("25.0%");
    expect(percent(undefined)).toBe("—");
  });
  it("shows infinities (a profit factor without losers)", () => {
    expect(num(Infinity)).toBe("∞");
    expect(num(2.3456, 2)).toBe("2.35");
  });
  it("formats durations at the right scale", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(960)).toBe("16m 0s");
    expect(duration(3 * 3600 + 120)).toBe("3h 2m");
    expect(duration(90000)).toBe("1d 1h");
  });
  it("chooses the format from the metric's unit", () => {
    expect(metricValue(0.5, "fraction")).toBe("50.0%");
    expect(metricValue(-12.5, "currency")).toBe("-$12.50");
    expect(metricValue(1.5, "R")).toBe("1.5R");
    expect(metricValue(null, "currency")).toBe("—");
  });
  it("shows times in the chosen zone", () => {
    setTimeZone("America/New_York");
    expect(dateTime("2023-12-15T14:30:00Z")).toBe("15/12/2023, 09:30:00");
    setTimeZone("UTC");
    expect(dateTime("2023-12-15T14:30:00Z")).toBe("15/12/2023, 14:30:00");
  });
  it("labels and colours", () => {
    expect(label("max_drawdown")).toBe("Max drawdown");
    expect(pnlClass(3)).toBe("pos");
    expect(pnlClass(-3)).toBe("neg");
    expect(pnlClass(0)).toBe("");
  });
});
