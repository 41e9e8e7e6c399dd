import { api, unwrap } from "../api/client";
import { useLoad } from "./hooks";

let cached: Promise<Record<string, string>> | null = null;

/** Metric name → unit (`currency`, `fraction`, ...), fetched once per session. */
export function loadUnits(): Promise<Record<string, string>> {
  cached ??= unwrap(api.GET("/api/metrics/definitions")).then((rows) =>
    Object.fromEntries(rows.map((row) => [String(row.name), String(row.unit)])),
  );
  cached.catch(() => (cached = null));
  return cached;
}

export function useUnits(): Record<string, string> {
  return useLoad(() => loadUnits(), []).data ?? {};
}
