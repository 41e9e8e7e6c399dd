import { describe, expect, it } from "vitest";
import { modeCaption } from "./Dashboard";

describe("modeCaption", () => {
  it("says a single mode is shown alone", () => {
    expect(modeCaption("live", { live: 2 }, 50000)).toBe("Live runs only: 2 runs, starting capital $50,000.");
    expect(modeCaption("backtest", {}, null)).toBe("Backtest runs only: 0 runs.");
  });
  it("says when modes are added together, and how many of each", () => {
    expect(modeCaption("all", { live: 1, backtest: 3, paper: 1 }, null)).toBe(
      "Backtest, paper and live money added together: 3 backtest + 1 paper + 1 live = 5 runs.",
    );
    expect(modeCaption("all", { live: 1 }, 1000)).toBe("All modes: 1 run (1 live), starting capital $1,000.");
  });
});
