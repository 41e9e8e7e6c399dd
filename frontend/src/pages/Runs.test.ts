import { describe, expect, it } from "vitest";
import { compareOrder } from "./Runs";

describe("compareOrder", () => {
  const runs = [
    { id: 7, mode: "live" as const },
    { id: 3, mode: "backtest" as const },
    { id: 5, mode: "live" as const },
  ];
  it("puts the backtest first, whatever was ticked first", () => {
    expect(compareOrder([7, 3], runs)).toEqual([3, 7]);
    expect(compareOrder([3, 7], runs)).toEqual([3, 7]);
  });
  it("orders runs of one mode by age", () => {
    expect(compareOrder([7, 5], runs)).toEqual([5, 7]);
  });
});
