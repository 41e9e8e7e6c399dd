import { describe, expect, it } from "vitest";
import { emptyNote, modeCaption } from "./Dashboard";

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

describe("emptyNote", () => {
  it("points a newcomer to the demo and a live-only view to the other modes", () => {
    expect(emptyNote("live", [])).toBe("No runs yet: push fills with an API key (Settings), or load the demo below.");
    expect(emptyNote("live", ["backtest", "paper", "backtest"])).toBe("No live runs yet; you have 2 backtest, 1 paper runs.");
    expect(emptyNote("paper", ["backtest"])).toBe("No paper runs yet; you have 1 backtest run.");
  });
  it("says nothing when the mode has runs or every mode is shown", () => {
    expect(emptyNote("live", ["live", "backtest"])).toBeNull();
    expect(emptyNote("all", [])).toBeNull();
  });
});
