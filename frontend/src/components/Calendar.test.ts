import { describe, expect, it } from "vitest";
import { monthGrid } from "./Calendar";

describe("monthGrid", () => {
  it("lays days out Monday-first and fills missing days with zero", () => {
    const [december] = monthGrid([
      { date: "2023-12-15", net_pnl: -79.5, trades: 3 },
      { date: "2023-12-01", net_pnl: 10, trades: 1 },
    ]);
    expect(december.title).toBe("December 2023");
    // 1 December 2023 was a Friday: four pads (Mon-Thu) first.
    expect(december.cells.slice(0, 4)).toEqual([null, null, null, null]);
    expect(december.cells[4]).toEqual({ date: "2023-12-01", net_pnl: 10, trades: 1 });
    expect(december.cells.filter(Boolean)).toHaveLength(31);
    expect(december.cells[4 + 14]).toEqual({ date: "2023-12-15", net_pnl: -79.5, trades: 3 });
    expect(december.cells[4 + 1]).toEqual({ date: "2023-12-02", net_pnl: 0, trades: 0 });
  });

  it("orders months", () => {
    const months = monthGrid([
      { date: "2024-01-02", net_pnl: 1 },
      { date: "2023-11-30", net_pnl: 1 },
    ]);
    expect(months.map((m) => m.key)).toEqual(["2023-11", "2024-01"]);
  });
});
