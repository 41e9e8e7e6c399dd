// Instruments as the form edits them: text fields in, the PATCH body out, and the
// re-pricing warning the API answers with (409) before a change touches existing trades.
import type { Schemas } from "../api/client";

export type Instrument = Schemas["InstrumentRead"];
export type InstrumentConflict = Schemas["InstrumentConflict"];

export interface InstrumentForm {
  multiplier: string;
  tick_size: string;
  currency: string;
  asset_class: string;
  default_risk: string;
}

/** What each field is, in words: a human label, its unit and one line of explanation. */
export const FIELDS: { name: keyof InstrumentForm; label: string; unit: string; help: string; numeric: boolean }[] = [
  { name: "multiplier", label: "Multiplier", unit: "currency per point", help: "what one point of price is worth per contract (MES 5, ES 50, a stock 1); it prices every trade", numeric: true },
  { name: "tick_size", label: "Tick size", unit: "points", help: "the smallest price step; backtests slip in ticks", numeric: true },
  { name: "currency", label: "Currency", unit: "code", help: "the currency the multiplier pays in (USD)", numeric: false },
  { name: "asset_class", label: "Asset class", unit: "text", help: "future, stock, fx, crypto… (for your own grouping)", numeric: false },
  { name: "default_risk", label: "Default risk", unit: "points", help: "entry-to-stop distance assumed for R when a trade has no stop order", numeric: true },
];

export function formOf(instrument: Instrument | null): InstrumentForm {
  const text = (value: number | string | null | undefined) => (value === null || value === undefined ? "" : String(value));
  return {
    multiplier: text(instrument?.multiplier ?? 1),
    tick_size: text(instrument?.tick_size),
    currency: text(instrument?.currency),
    asset_class: text(instrument?.asset_class),
    default_risk: text(instrument?.default_risk),
  };
}

/** The PATCH body of the fields that changed (an emptied field is sent as null), or the
 *  problems by field name. */
export function changesOf(before: InstrumentForm, after: InstrumentForm): { body: Record<string, number | string | null>; errors: Record<string, string> } {
  const body: Record<string, number | string | null> = {};
  const errors: Record<string, string> = {};
  for (const field of FIELDS) {
    const text = after[field.name].trim();
    if (text === before[field.name].trim()) continue;
    if (text === "") {
      if (field.name === "multiplier") errors.multiplier = "a number above 0 (1 when a point is worth one unit of currency)";
      else body[field.name] = null;
      continue;
    }
    if (!field.numeric) {
      body[field.name] = text;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) errors[field.name] = "a number above 0";
    else body[field.name] = value;
  }
  return { body, errors };
}

/** The warning shown before a re-pricing change is applied. */
export function repriceWarning(conflict: InstrumentConflict): string {
  const { runs, trades } = conflict.affected;
  const changed = Object.entries(conflict.changes)
    .map(([name, change]) => `${name.replace("_", " ")} ${String(change.from ?? "none")} → ${String(change.to ?? "none")}`)
    .join(", ");
  return `${changed}: re-prices ${trades} trade${trades === 1 ? "" : "s"} in ${runs} run${runs === 1 ? "" : "s"} (their P&L, R and excursions are derived again).`;
}

/** Fields whose change re-prices a symbol's trades (backend REPRICING_FIELDS). */
export const REPRICING = ["multiplier", "default_risk"] as const;

/** The warning for a change of a listed instrument, worked out before any request (the API
 *  answers the same as a 409 without `?confirm=true`); null when it re-prices nothing. */
export function localConflict(instrument: Instrument, body: Record<string, number | string | null>): InstrumentConflict | null {
  const changes: InstrumentConflict["changes"] = {};
  for (const name of REPRICING) {
    if (name in body && body[name] !== (instrument[name] ?? null)) changes[name] = { from: instrument[name] ?? null, to: body[name] ?? (name === "multiplier" ? 1 : null) };
  }
  if (!Object.keys(changes).length || instrument.trade_count === 0) return null;
  return { error: "conflict", detail: "", affected: { runs: instrument.run_count, trades: instrument.trade_count }, changes };
}
