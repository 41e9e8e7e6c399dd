import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Definitions, MetricDefinition } from "../lib/metricUnits";
import { HeadlineCards, HEADLINE, MetricList } from "./Metrics";

afterEach(cleanup);

const define = (name: string, label: string, unit: MetricDefinition["unit"], annualised = false): MetricDefinition => ({
  name,
  label,
  unit,
  formula: "f",
  description: `What ${label} tells.`,
  annualised,
});

// As GET /api/metrics/definitions serves them (a subset), in the server's order.
const definitions: Definitions = Object.fromEntries(
  [
    define("net_pnl", "Net P&L", "currency"),
    define("win_rate", "Win rate", "fraction"),
    define("profit_factor", "Profit factor", "ratio"),
    define("expectancy", "Expectancy per trade", "currency"),
    define("max_drawdown", "Max drawdown % (daily closes)", "fraction"),
    define("max_drawdown_trades", "Max drawdown (closed trades)", "currency"),
    define("sharpe", "Sharpe ratio (annualised)", "ratio", true),
    define("annual_return", "Annualised return", "fraction", true),
    define("avg_hold_seconds", "Average holding time", "seconds"),
    define("max_drawdown_duration_days", "Max drawdown duration (daily closes)", "days"),
    define("sqn", "System quality number (SQN)", "ratio"),
  ].map((d) => [d.name, d]),
);

const SHORT = "annualised figures need at least 20 business days of returns; this one spans 3";
const metrics = {
  net_pnl: -1234.5,
  win_rate: 0.4167,
  profit_factor: 0.8123,
  expectancy: -102.875,
  max_drawdown: -0.266,
  max_drawdown_trades: -1463.25,
  sharpe: null,
  annual_return: null,
  avg_hold_seconds: 4800,
  max_drawdown_duration_days: 3,
  sqn: -2.2391,
  undefined: { sharpe: SHORT, annual_return: SHORT },
};

describe("HeadlineCards", () => {
  it("labels every card from the registry and formats it in its unit", () => {
    render(<HeadlineCards metrics={metrics} definitions={definitions} />);
    const labels = screen.getAllByTestId("metric-label").map((e) => e.textContent);
    expect(labels).toEqual(["Net P&L", "Win rate", "Profit factor", "Expectancy per trade", "Max drawdown (closed trades)", "Sharpe ratio (annualised)"]);
    const value = (name: string) => document.querySelector(`[data-metric=${name}]`)?.textContent;
    expect(value("net_pnl")).toBe("-$1,234.50");
    expect(value("win_rate")).toBe("41.7%");
    expect(value("profit_factor")).toBe("0.81");
    expect(value("max_drawdown_trades")).toBe("-$1,463.25"); // money, as the chart's trough
    expect(document.querySelector("[data-metric=net_pnl]")?.className).toContain("neg");
  });

  it("shows a blank figure as — with the server's reason", () => {
    render(<HeadlineCards metrics={metrics} definitions={definitions} />);
    const sharpe = document.querySelector("[data-metric=sharpe]")!;
    expect(sharpe.textContent).toBe("—");
    expect(sharpe.parentElement?.textContent).toContain(SHORT);
    expect(sharpe.parentElement?.getAttribute("title")).toBe(`What Sharpe ratio (annualised) tells. Not shown: ${SHORT}.`);
  });

  it("asks only for metrics the registry knows", () => {
    for (const name of HEADLINE) expect(definitions[name]?.name).toBe(name);
  });
});

describe("MetricList", () => {
  it("never shows a raw name, and formats seconds, days and ratios by unit", () => {
    render(<MetricList metrics={metrics} definitions={definitions} />);
    const labels = screen.getAllByTestId("metric-label").map((e) => e.textContent ?? "");
    expect(labels).toHaveLength(Object.keys(definitions).length);
    for (const name of Object.keys(definitions)) {
      expect(labels).not.toContain(name);
      expect(labels.some((l) => l.includes("_"))).toBe(false);
    }
    const value = (name: string) => document.querySelector(`[data-list-metric=${name}]`)?.textContent;
    expect(value("avg_hold_seconds")).toBe("1h 20m");
    expect(value("max_drawdown")).toBe("-26.6%"); // a fraction, never money
    expect(value("max_drawdown_duration_days")).toBe("3 business days");
    expect(value("sqn")).toBe("-2.24");
    expect(value("annual_return")).toBe("—");
  });
});
