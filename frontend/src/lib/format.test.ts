import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chartTime, dateOnly, dateTime, dateTimeShort, duration, label, metricValue, money, num, percent, pnlClass, setLocale, setTimeZone, tickMark, zonedInstant } from "./format";

// Intl writes a narrow no-break space in some locales' numbers and times: compare on plain spaces.
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, " ");

describe("format", () => {
  beforeEach(() => {
    setLocale("en-US");
    setTimeZone("UTC");
  });
  afterEach(() => {
    setLocale(undefined);
    setTimeZone(undefined);
  });

  it("formats money with sign and grouping", () => {
    expect(money(1234.5)).toBe("$1,234.50");
    expect(money(-0.744)).toBe("-$0.74");
    expect(money(-0.004)).toBe("$0.00");
    expect(money(null)).toBe("—");
    expect(money(NaN)).toBe("—");
  });
  it("formats money, numbers and percentages in the browser's locale", () => {
    setLocale("de-DE");
    expect(plain(money(-1234.5))).toBe("-1.234,50 $");
    expect(num(1234.567, 2)).toBe("1.234,57");
    expect(plain(percent(0.255))).toBe("25,5 %");
    setLocale("en-GB");
    expect(money(1234.5)).toBe("US$1,234.50");
    setLocale("fr-FR");
    expect(plain(num(1234567.5, 1))).toBe("1 234 567,5");
  });
  it("formats fractions as percent", () => {
    expect(percent(0.25)).toBe("25.0%");
    expect(percent(-0.032, 2)).toBe("-3.20%");
    expect(percent(undefined)).toBe("—");
  });
  it("shows infinities (a profit factor without losers)", () => {
    expect(num(Infinity)).toBe("∞");
    expect(num(2.3456, 2)).toBe("2.35");
  });
  it("formats durations at the right scale", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(960)).toBe("16m 0s");
    expect(duration(3 * 3600 + 120)).toBe("3h 2m");
    expect(duration(90000)).toBe("1d 1h");
  });
  it("chooses the format from the metric's unit", () => {
    expect(metricValue(0.5, "fraction")).toBe("50.0%");
    expect(metricValue(-12.5, "currency")).toBe("-$12.50");
    expect(metricValue(1.5, "R")).toBe("1.5R");
    expect(metricValue(3600, "seconds")).toBe("1h 0m");
    expect(metricValue(1234, "count")).toBe("1,234");
    expect(metricValue(null, "currency")).toBe("—");
  });
  it("shows times in the chosen zone", () => {
    setTimeZone("America/New_York");
    expect(plain(dateTime("2023-12-15T14:30:00Z"))).toBe("12/15/2023, 09:30:00 AM");
    setTimeZone("Asia/Tokyo");
    expect(plain(dateTime("2023-12-15T14:30:00Z"))).toBe("12/15/2023, 11:30:00 PM");
    expect(dateOnly("2023-12-15T15:30:00Z")).toBe("12/16/2023"); // already the 16th in Tokyo
    expect(plain(dateTimeShort("2023-12-15T14:30:59Z"))).toBe("12/15/2023, 11:30 PM");
    setTimeZone("UTC");
    expect(plain(dateTime("2023-12-15T14:30:00Z"))).toBe("12/15/2023, 02:30:00 PM");
    expect(plain(dateTime(1702650600))).toBe("12/15/2023, 02:30:00 PM"); // Unix seconds too
  });
  it("orders the date as the locale does, not fixed to DD/MM/YYYY", () => {
    setTimeZone("Europe/London");
    expect(plain(dateTime("2023-07-04T14:30:00Z"))).toBe("07/04/2023, 03:30:00 PM"); // BST, US order and clock
    setLocale("en-GB");
    expect(dateTime("2023-07-04T14:30:00Z")).toBe("04/07/2023, 15:30:00");
    setLocale("de-DE");
    expect(dateTime("2023-07-04T14:30:00Z")).toBe("04.07.2023, 15:30:00");
    setLocale("ja-JP");
    expect(dateOnly("2023-07-04T14:30:00Z")).toBe("2023/07/04");
  });
  it("labels chart axes and crosshair in the user's zone, not UTC", () => {
    setTimeZone("America/New_York");
    const t = Date.parse("2023-12-15T14:30:00Z") / 1000;
    expect(plain(tickMark(t, 3))).toBe("09:30 AM");
    expect(plain(tickMark(t, 4))).toBe("09:30:00 AM");
    expect(tickMark(t, 2)).toBe("Dec 15");
    expect(tickMark(t, 0)).toBe("2023");
    expect(plain(chartTime(t))).toBe("12/15/2023, 09:30 AM");
    setLocale("en-GB");
    expect(tickMark(t, 3)).toBe("09:30"); // a 24-hour locale
    // 02:00 UTC on the 16th is still the 15th in New York
    expect(tickMark(Date.parse("2023-12-16T02:00:00Z") / 1000, 2)).toBe("15 Dec");
    setLocale("de-DE");
    expect(tickMark(t, 2)).toBe("15. Dez.");
  });
  it("turns a wall-clock date in the user's zone into the instant a filter sends", () => {
    expect(zonedInstant("2023-12-15", "America/New_York")).toBe("2023-12-15T05:00:00Z");
    expect(zonedInstant("2023-07-04", "America/New_York")).toBe("2023-07-04T04:00:00Z"); // EDT
    expect(zonedInstant("2023-12-15T09:30", "America/New_York")).toBe("2023-12-15T14:30:00Z");
    expect(zonedInstant("2023-12-15", "Asia/Kolkata")).toBe("2023-12-14T18:30:00Z");
    expect(zonedInstant("2023-12-15", "UTC")).toBe("2023-12-15T00:00:00Z");
    // 02:30 does not exist on 2024-03-10 in New York: the instant after the gap
    expect(zonedInstant("2024-03-10T02:30", "America/New_York")).toBe("2024-03-10T07:30:00Z");
    expect(zonedInstant("15/12/2023", "UTC")).toBeNull();
  });
  it("labels and colours", () => {
    expect(label("max_drawdown")).toBe("Max drawdown");
    expect(pnlClass(3)).toBe("pos");
    expect(pnlClass(-3)).toBe("neg");
    expect(pnlClass(0)).toBe("");
  });
});
