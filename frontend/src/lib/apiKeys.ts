// What the key form offers: scopes with a one-line explanation each, and expiry choices.
import type { Schemas } from "../api/client";

export type Scope = Schemas["Scope"];

/** Every scope, in the server's order (a scope the server adds breaks this until listed). */
export const SCOPES: Record<Scope, string> = {
  ingest: "push orders, fills and bars — all an exporter needs",
  read: "read the journal: runs, trades, bars, metrics, backtests, training, live updates",
  "write:journal": "edit trade notes, tags and setups, and instruments; import a journal",
  backtests: "launch backtests",
  training: "start and cancel training jobs, set auto-training",
  export: "download the whole journal",
};

export const DEFAULT_SCOPES: Scope[] = ["ingest"];

export const EXPIRY_CHOICES = [
  { value: "never", label: "never" },
  { value: "30", label: "in 30 days" },
  { value: "90", label: "in 90 days" },
  { value: "365", label: "in a year" },
  { value: "date", label: "on a date…" },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["value"];

/** The expiry fields of a create-key body; an error message when a chosen date is unusable. */
export function expiryBody(
  choice: ExpiryChoice,
  date: string,
  now: Date = new Date(),
): { expires_in_days?: number; expires_at?: string } | string {
  if (choice === "never") return {};
  if (choice !== "date") return { expires_in_days: Number(choice) };
  if (!date) return "pick the day the key stops working";
  const end = new Date(`${date}T23:59:59`); // the end of that day, in the browser's time zone
  if (Number.isNaN(end.getTime())) return `not a date: ${date}`;
  if (end.getTime() <= now.getTime()) return "the expiry must be in the future";
  return { expires_at: end.toISOString() };
}

/** The scopes ticked, in the server's order. */
export function orderedScopes(ticked: Iterable<Scope>): Scope[] {
  const set = new Set(ticked);
  return (Object.keys(SCOPES) as Scope[]).filter((scope) => set.has(scope));
}

/** Whether a key's expiry has passed. */
export function isExpired(expiresAt: string | null | undefined, now: Date = new Date()): boolean {
  return !!expiresAt && new Date(expiresAt).getTime() <= now.getTime();
}
