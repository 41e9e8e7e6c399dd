/** Confidence intervals served on metrics and breakdown rows (docs/metrics.md, "Confidence"). */
import { metricText } from "./metricDisplay";
import type { MetricDefinition } from "./metricUnits";

export interface Interval {
  ci_low: number | null;
  ci_high: number | null;
  n: number;
  level: number;
  method: "wilson" | "bootstrap";
  enough: boolean;
  reason: string | null;
}

export type Intervals = Record<string, Interval | undefined>;

/** The interval of `name` on a breakdown row or a metrics document, if served. */
export function intervalOf(row: unknown, name: string): Interval | undefined {
  if (!row || typeof row !== "object") return undefined;
  const direct = (row as { intervals?: Intervals }).intervals;
  const nested = (row as { confidence?: { intervals?: Intervals } }).confidence?.intervals;
  return (direct ?? nested)?.[name];
}

/** "95 % interval 41.0 % to 79.2 % (n = 21)"; an open bound reads "unbounded". */
export function intervalText(interval: Interval | undefined, definition: Pick<MetricDefinition, "unit"> | undefined): string {
  if (!interval) return "";
  if (interval.ci_low === null && interval.ci_high === null) return interval.reason ?? "";
  const low = interval.ci_low === null ? "unbounded" : metricText(interval.ci_low, definition);
  const high = interval.ci_high === null ? "unbounded" : metricText(interval.ci_high, definition);
  return `${Math.round(interval.level * 100)} % interval ${low} to ${high} (n = ${interval.n})`;
}

/** Error-bar lengths below and above `value`: [value - low, high - value], or undefined. */
export function errorBar(value: number | null | undefined, interval: Interval | undefined): [number, number] | undefined {
  if (value === null || value === undefined || !interval || interval.ci_low === null || interval.ci_high === null) return undefined;
  return [Math.max(0, value - interval.ci_low), Math.max(0, interval.ci_high - value)];
}

/** A row whose intervals rest on too few trades: shown muted, with the reason. */
export function thin(row: unknown): string | null {
  const interval = intervalOf(row, "win_rate");
  return interval && !interval.enough ? interval.reason : null;
}
