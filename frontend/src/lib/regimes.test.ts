import { describe, expect, it } from "vitest";
import { regimeMatrix, segmentLookup } from "./regimes";

describe("segmentLookup", () => {
  const segments = [
    { start: "2023-12-15T14:00:00Z", end: "2023-12-15T15:00:00Z", trend: "up", volatility: "low" },
    { start: "2023-12-15T15:00:00Z", end: null, trend: "down", volatility: "high" },
  ];
  const at = (iso: string) => segmentLookup(segments)(Date.parse(iso) / 1000);

  it("finds the segment a time falls in", () => {
    expect(at("2023-12-15T14:00:00Z")?.trend).toBe("up");
    expect(at("2023-12-15T14:59:59Z")?.trend).toBe("up");
    expect(at("2023-12-15T15:00:00Z")?.trend).toBe("down");
    expect(at("2024-01-01T00:00:00Z")?.trend).toBe("down");
  });

  it("has nothing before the first segment", () => {
    expect(at("2023-12-15T13:59:00Z")).toBeUndefined();
  });
});

describe("regimeMatrix", () => {
  it("puts each trend / volatility group in its cell", () => {
    const matrix = regimeMatrix([
      { key: "up / high", net_pnl: 50 },
      { key: "down / low", net_pnl: -20 },
      { key: "unknown / unknown", net_pnl: 1 },
    ]);
    expect(matrix.map((row) => row[0].trend)).toEqual(["up", "range", "down"]);
    expect(matrix[0][2].group?.net_pnl).toBe(50);
    expect(matrix[2][0].group?.net_pnl).toBe(-20);
    expect(matrix[1][1].group).toBeUndefined();
  });
});
