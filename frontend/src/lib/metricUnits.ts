import { api, unwrap, type Schemas } from "../api/client";
import { useLoad } from "./hooks";

/** One metric's name, human label, unit, formula and one-line explanation (the registry). */
export type MetricDefinition = Schemas["MetricDefinition"];
/** The registry by metric name, in the server's order. */
export type Definitions = Record<string, MetricDefinition>;

let cached: Promise<Definitions> | null = null;

/** GET /api/metrics/definitions, fetched once per session: the one source of every label and unit. */
export function loadDefinitions(): Promise<Definitions> {
  cached ??= unwrap(api.GET("/api/metrics/definitions")).then((rows) => Object.fromEntries(rows.map((row) => [row.name, row])));
  cached.catch(() => (cached = null));
  return cached;
}

export function useDefinitions(): Definitions {
  return useLoad(() => loadDefinitions(), []).data ?? {};
}

/** Metric name → unit (`currency`, `fraction`, ...). */
export function unitsOf(definitions: Definitions): Record<string, string> {
  return Object.fromEntries(Object.values(definitions).map((d) => [d.name, d.unit]));
}

export function useUnits(): Record<string, string> {
  return unitsOf(useDefinitions());
}
