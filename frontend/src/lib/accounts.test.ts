import { describe, expect, it } from "vitest";
import { cashProblems, inCurrency, missingRates } from "./accounts";

describe("inCurrency", () => {
  it("writes the account's own currency", () => {
    expect(inCurrency(1234.5, "EUR")).toBe("€1,234.50");
    expect(inCurrency(-4000, "USD")).toBe("-$4,000.00");
    expect(inCurrency(-0.001, "USD")).toBe("$0.00");
    expect(inCurrency(null, "USD")).toBe("—");
  });
});

describe("cashProblems", () => {
  it("names each bad field", () => {
    expect(cashProblems({ kind: "deposit", amount: "0", ts: "", currency: "eur", note: "" })).toEqual({
      amount: "a positive amount: the kind says which way it goes",
      ts: "when the money moved",
      currency: "three capital letters (ISO 4217, e.g. USD), or empty for the account's",
    });
    expect(cashProblems({ kind: "fee", amount: "12.5", ts: "2024-01-02T10:00", currency: "", note: "" })).toEqual({});
  });
});

describe("missingRates", () => {
  it("lists the pairs and days the API named", () => {
    expect(missingRates({ error: "missing_rate", missing_rates: [{ pair: "EURUSD", day: "2024-01-03" }, { pair: "JPYUSD", day: "2024-01-04" }] })).toBe(
      "Missing FX rates: EURUSD on 2024-01-03, JPYUSD on 2024-01-04. Push the pair's 1d bars or enter the rate below.",
    );
    expect(missingRates({ error: "not_found" })).toBeNull();
  });
});
