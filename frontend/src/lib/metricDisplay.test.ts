import { describe, expect, it } from "vitest";
import { deltaText, metricHeader, metricHint, metricLabel, metricText } from "./metricDisplay";

describe("metricText", () => {
  it("formats by the registry's unit", () => {
    expect(metricText(-0.266, { unit: "fraction" })).toBe("-26.6%");
    expect(metricText(-1463.25, { unit: "currency" })).toBe("-$1,463.25");
    expect(metricText(1.23456, { unit: "ratio" })).toBe("1.23");
    expect(metricText(1, { unit: "days" })).toBe("1 business day");
    expect(metricText(12, { unit: "count" })).toBe("12");
    expect(metricText(0.5, { unit: "R" })).toBe("0.5R");
    expect(metricText(4800, { unit: "seconds" })).toBe("1h 20m");
  });
  it("is — when null or when the metric is unknown", () => {
    expect(metricText(null, { unit: "currency" })).toBe("—");
    expect(metricText(5, undefined)).toBe("—");
  });
});

describe("labels and hints", () => {
  const definitions = { sqn: { name: "sqn", label: "System quality number (SQN)", unit: "ratio" as const, formula: "", description: "Consistency.", annualised: false } };
  it("takes the label from the registry, never the raw name", () => {
    expect(metricLabel("sqn", definitions)).toBe("System quality number (SQN)");
    expect(metricLabel("unknown_metric", definitions)).toBe("…");
  });
  it("joins the description and the reason", () => {
    expect(metricHint(definitions.sqn, "needs at least 2 closed trades")).toBe("Consistency. Not shown: needs at least 2 closed trades.");
    expect(metricHint(definitions.sqn, undefined)).toBe("Consistency.");
  });
});

describe("deltaText", () => {
  it("is B − A, signed, in the unit; percentage points for fractions", () => {
    expect(deltaText(11, 5.75, { unit: "currency" })).toBe("-$5.25");
    expect(deltaText(5.75, 11, { unit: "currency" })).toBe("+$5.25");
    expect(deltaText(0.5, 0.6, { unit: "fraction" })).toBe("+10.0 pts");
    expect(deltaText(null, 0.6, { unit: "fraction" })).toBe("—");
  });
});

describe("metricHeader", () => {
  it("puts the unit beside the label", () => {
    const definitions = {
      net_pnl: { name: "net_pnl", label: "Net P&L", unit: "currency" as const, formula: "", description: "", annualised: false },
      win_rate: { name: "win_rate", label: "Win rate", unit: "fraction" as const, formula: "", description: "", annualised: false },
    };
    expect(metricHeader("net_pnl", definitions)).toBe("Net P&L ($)");
    expect(metricHeader("win_rate", definitions)).toBe("Win rate (%)");
    expect(metricHeader("sharpe", definitions)).toBe("…");
  });
});
