import { afterEach, describe, expect, it } from "vitest";
import { setTimeZone } from "../lib/format";
import { nextDay, tradeQuery } from "./TradeList";

afterEach(() => setTimeZone(undefined));

describe("trade filters in the URL", () => {
  it("counts a 'to' day in: the filter ends at the next midnight", () => {
    expect(nextDay("2024-01-03")).toBe("2024-01-04");
    expect(nextDay("2024-02-29")).toBe("2024-03-01");
    expect(nextDay("2023-12-31")).toBe("2024-01-01");
  });

  it("sends days as instants in the user's zone, and only the filters set", () => {
    setTimeZone("America/New_York");
    const query = tradeQuery(new URLSearchParams("run=7&mode=live&from=2024-01-03&to=2024-01-03&tag=A%2B&setup=ORB&outcome=win"), true);
    expect(query).toEqual({
      run_id: 7, mode: "live", start: "2024-01-03T05:00:00Z", end: "2024-01-04T05:00:00Z",
      tag: "A+", setup: "ORB", outcome: "win",
      direction: undefined, status: undefined, trend: undefined, volatility: undefined, symbol: undefined,
    });
  });

  it("leaves run and mode to the run's own page, and ignores a run id that is not one", () => {
    const query = tradeQuery(new URLSearchParams("run=7&mode=live"), false);
    expect(query.run_id).toBeUndefined();
    expect(query.mode).toBeUndefined();
    expect(tradeQuery(new URLSearchParams("run=abc"), true).run_id).toBeUndefined();
    expect(tradeQuery(new URLSearchParams("run=0"), true).run_id).toBeUndefined();
  });
});
