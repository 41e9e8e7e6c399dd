// How a metric reads on a card, in a list or in a table: its label, value and
// explanation, all from the registry (GET /api/metrics/definitions). Never the raw name.
import { metricValue, num } from "./format";
import type { Definitions, MetricDefinition } from "./metricUnits";

/** A metric's value in its unit ("—" when null or unknown). */
export function metricText(value: unknown, definition: Pick<MetricDefinition, "unit"> | undefined): string {
  if (!definition) return "—";
  if (definition.unit === "days" && typeof value === "number") return `${num(value, 0)} business day${value === 1 ? "" : "s"}`;
  if (definition.unit === "ratio" && typeof value === "number") return num(value, 2);
  return metricValue(value, definition.unit);
}

/** The human label of `name` ("…" until the registry has loaded). */
export function metricLabel(name: string, definitions: Definitions): string {
  return definitions[name]?.label ?? "…";
}

/** The tooltip: what the number tells, and why it is blank when it is. */
export function metricHint(definition: MetricDefinition | undefined, reason: string | undefined): string | undefined {
  const parts = [definition?.description, reason && `Not shown: ${reason}.`].filter(Boolean);
  return parts.length ? parts.join(" ") : undefined;
}

/** B − A of a metric, signed, in its unit ("—" unless both are numbers). */
export function deltaText(a: unknown, b: unknown, definition: Pick<MetricDefinition, "unit"> | undefined): string {
  if (typeof a !== "number" || typeof b !== "number" || !definition) return "—";
  const difference = b - a;
  if (definition.unit === "fraction") return `${difference > 0 ? "+" : ""}${(difference * 100).toFixed(1)} pts`;
  const text = metricText(difference, definition);
  return difference > 0 ? `+${text}` : text;
}

const UNIT_NAMES: Record<string, string> = { currency: "$", fraction: "%", ratio: "ratio", count: "count", seconds: "time", days: "days", R: "R" };

/** A column header: the metric's label and, in brackets, its unit ("Net P&L ($)"). */
export function metricHeader(name: string, definitions: Definitions): string {
  const definition = definitions[name];
  if (!definition) return "…";
  const unit = UNIT_NAMES[definition.unit];
  return unit ? `${definition.label} (${unit})` : definition.label;
}
