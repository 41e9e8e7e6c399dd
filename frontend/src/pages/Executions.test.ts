import { describe, expect, it } from "vitest";
import { localToIso } from "./Executions";

describe("localToIso", () => {
  it("reads the picker's value as UTC", () => {
    expect(localToIso("2023-12-15T14:30")).toBe("2023-12-15T14:30:00Z");
    expect(localToIso("2023-12-15T14:30:05")).toBe("2023-12-15T14:30:05Z");
    expect(localToIso("")).toBeUndefined();
  });
});
