import { describe, expect, it } from "vitest";
import { timeAxisTitle, timeTick } from "./chartTime";

const at = Date.UTC(2024, 2, 11, 13, 30); // 2024-03-11 13:30Z: 09:30 in New York (EDT)

describe("timeTick", () => {
  it("shows times of day over a short span, in the user's zone", () => {
    expect(timeTick(6 * 3_600_000, "America/New_York", "en-US")(at)).toBe("09:30");
    expect(timeTick(6 * 3_600_000, "UTC", "en-US")(at)).toBe("13:30");
  });
  it("shows dates over weeks and months over years", () => {
    expect(timeTick(20 * 86_400_000, "UTC", "en-US")(at)).toBe("Mar 11");
    expect(timeTick(400 * 86_400_000, "UTC", "en-US")(at)).toBe("Mar 2024");
  });
  it("a late-evening exit in New York falls on its local date", () => {
    const late = Date.UTC(2024, 2, 13, 3, 0); // 23:00 on the 12th in New York
    expect(timeTick(20 * 86_400_000, "America/New_York", "en-US")(late)).toBe("Mar 12");
  });
});

describe("timeAxisTitle", () => {
  it("names the zone", () => {
    expect(timeAxisTitle("Europe/Berlin")).toBe("Exit time (Europe/Berlin)");
  });
});
