import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { concatBars, decodeBars, timeframeSeconds } from "./bars";

// What backend/market/service.py packs: columns of equal length, ts in epoch ns (int64).
function packed(tsSeconds: number[], nextStart: bigint | null = null): Uint8Array {
  return encode(
    {
      symbol: "MESZ3",
      timeframe: "1m",
      source_timeframe: "1m",
      ts: tsSeconds.map((s) => BigInt(s) * 1_000_000_000n),
      open: tsSeconds.map((_, i) => 100 + i),
      high: tsSeconds.map((_, i) => 101 + i),
      low: tsSeconds.map((_, i) => 99 + i),
      close: tsSeconds.map((_, i) => 100.5 + i),
      volume: tsSeconds.map((_, i) => (i === 1 ? null : 10 * i)),
      bid_volume: tsSeconds.map(() => null),
      ask_volume: tsSeconds.map(() => null),
      next_start: nextStart,
    },
    { useBigInt64: true },
  );
}

describe("decodeBars", () => {
  it("turns columnar MessagePack into typed arrays in seconds", () => {
    const bars = decodeBars(packed([1702650600, 1702650660, 1702650720], 1702650780_000_000_000n));
    expect(bars.time).toBeInstanceOf(Float64Array);
    expect(Array.from(bars.time)).toEqual([1702650600, 1702650660, 1702650720]);
    expect(Array.from(bars.close)).toEqual([100.5, 101.5, 102.5]);
    expect(bars.volume[0]).toBe(0);
    expect(Number.isNaN(bars.volume[1])).toBe(true);
    expect(bars.nextStart).toBe(1702650780e9);
  });

  it("handles the last chunk (no next_start) and an empty one", () => {
    expect(decodeBars(packed([60])).nextStart).toBeNull();
    expect(decodeBars(packed([])).time.length).toBe(0);
  });
});

describe("concatBars", () => {
  it("joins chunks in order and drops a repeated boundary bar", () => {
    const older = decodeBars(packed([0, 60, 120]));
    const newer = decodeBars(packed([120, 180], 240n * 1_000_000_000n));
    const joined = concatBars(older, newer);
    expect(Array.from(joined.time)).toEqual([0, 60, 120, 180]);
    expect(joined.open.length).toBe(4);
    expect(joined.nextStart).toBe(240e9);
  });
});

describe("timeframeSeconds", () => {
  it("parses counts and units", () => {
    expect(timeframeSeconds("1s")).toBe(1);
    expect(timeframeSeconds("5m")).toBe(300);
    expect(timeframeSeconds("4h")).toBe(14400);
    expect(timeframeSeconds("1d")).toBe(86400);
    expect(() => timeframeSeconds("5x")).toThrow(/timeframe/);
  });
});
