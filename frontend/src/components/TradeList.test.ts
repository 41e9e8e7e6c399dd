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

describe("journal filters in the URL", () => {
  it("sends review, mistake and playbook as the API names them", () => {
    const query = tradeQuery(new URLSearchParams("review=new&mistake=3&playbook=12"), true);
    expect([query.review, query.mistake, query.playbook]).toEqual(["new", 3, "12"]);
    expect(tradeQuery(new URLSearchParams("review=reviewed&playbook=none"), false)).toMatchObject({ review: "reviewed", playbook: "none", mistake: undefined });
  });

  it("drops values the API would refuse", () => {
    const query = tradeQuery(new URLSearchParams("review=maybe&mistake=x&playbook=-2"), true);
    expect([query.review, query.mistake, query.playbook]).toEqual([undefined, undefined, undefined]);
    expect(tradeQuery(new URLSearchParams(""), true)).toMatchObject({ review: undefined, mistake: undefined, playbook: undefined });
  });
});
