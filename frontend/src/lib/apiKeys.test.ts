import { describe, expect, it } from "vitest";
import { DEFAULT_SCOPES, expiryBody, isExpired, orderedScopes, SCOPES } from "./apiKeys";

describe("API key form", () => {
  it("offers every scope with an explanation, ingest alone by default", () => {
    expect(Object.keys(SCOPES)).toEqual(["ingest", "read", "write:journal", "backtests", "training", "export"]);
    expect(Object.values(SCOPES).every((text) => text.length > 10)).toBe(true);
    expect(DEFAULT_SCOPES).toEqual(["ingest"]);
  });

  it("sends ticked scopes in the server's order", () => {
    expect(orderedScopes(["export", "ingest", "read"])).toEqual(["ingest", "read", "export"]);
    expect(orderedScopes([])).toEqual([]);
  });

  it("turns the expiry choice into the body's fields", () => {
    const now = new Date("2026-01-10T12:00:00Z");
    expect(expiryBody("never", "", now)).toEqual({});
    expect(expiryBody("90", "", now)).toEqual({ expires_in_days: 90 });
    const onDate = expiryBody("date", "2026-02-01", now);
    expect(typeof onDate).toBe("object");
    expect(new Date((onDate as { expires_at: string }).expires_at).getTime()).toBeGreaterThan(now.getTime());
    expect(expiryBody("date", "", now)).toBe("pick the day the key stops working");
    expect(expiryBody("date", "2026-01-01", now)).toBe("the expiry must be in the future");
  });

  it("tells an expired key", () => {
    const now = new Date("2026-01-10T12:00:00Z");
    expect(isExpired("2026-01-10T11:59:59Z", now)).toBe(true);
    expect(isExpired("2026-01-10T12:00:01Z", now)).toBe(false);
    expect(isExpired(null, now)).toBe(false);
  });
});
