import { describe, expect, it } from "vitest";
import { barTime, toSeriesMarkers } from "../components/CandleChart";
import { excursionLines, parseTags, tradeMarkers } from "./TradeDetail";

const fill = (ts: string, side: string, qty: number, price: number) => ({
  ts,
  side,
  qty,
  fill_qty: qty,
  price,
  commission: 0.74,
  id: ts,
  order_id: null,
  role: "entry" as const,
  seq: 0,
});

describe("trade markers", () => {
  const fills = [
    fill("2023-12-15T14:31:00Z", "buy", 1, 4702.75),
    fill("2023-12-15T14:31:30Z", "buy", 1, 4702.25),
    fill("2023-12-15T14:47:00Z", "sell", 2, 4684.5),
  ];

  it("marks the entry, every fill and the exit of a closed trade", () => {
    const markers = tradeMarkers({ fills, open: false });
    expect(markers.map((m) => m.kind)).toEqual(["entry", "fill", "exit"]);
    expect(markers[0]).toMatchObject({ side: "buy", text: "Entry 1 @ 4,702.75", timeSec: 1702650660 });
    expect(markers[2].text).toBe("Exit 2 @ 4,684.5");
  });

  it("has no exit while the trade is open", () => {
    expect(tradeMarkers({ fills: fills.slice(0, 2), open: true }).map((m) => m.kind)).toEqual(["entry", "fill"]);
  });

  it("puts markers on the bar that holds them, in time order", () => {
    expect(barTime(1702650690, 60)).toBe(1702650660);
    const placed = toSeriesMarkers(tradeMarkers({ fills: [...fills].reverse(), open: false }), 60, { up: "g", down: "r", accent: "b" });
    expect(placed.map((m) => m.time)).toEqual([1702650660, 1702650660, 1702651620]);
    expect(placed.map((m) => m.position)).toEqual(["belowBar", "belowBar", "aboveBar"]);
  });
});

describe("excursionLines", () => {
  it("draws MFE above and MAE below a long entry", () => {
    const lines = excursionLines({ direction: "long", entry_price: 100, exit_price: 98, mfe: 2, mae: 5, initial_stop: null });
    expect(lines.map((l) => [l.title, l.price])).toEqual([
      ["entry", 100],
      ["exit", 98],
      ["MFE", 102],
      ["MAE", 95],
    ]);
  });
  it("mirrors them for a short", () => {
    const lines = excursionLines({ direction: "short", entry_price: 100, exit_price: null, mfe: 2, mae: 5, initial_stop: 103 });
    expect(lines.map((l) => [l.title, l.price])).toEqual([
      ["entry", 100],
      ["MFE", 98],
      ["MAE", 105],
      ["stop", 103],
    ]);
  });
});

describe("parseTags", () => {
  it("splits, trims and deduplicates", () => {
    expect(parseTags(" A+, news,,A+ , revenge ")).toEqual(["A+", "news", "revenge"]);
    expect(parseTags("")).toEqual([]);
  });
});
