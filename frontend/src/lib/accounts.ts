// Accounts page helpers (pure): amounts in an account's own currency, the cash-flow form,
// and the words for a total that needs an FX rate nobody gave (docs/accounts.md).
import type { Schemas } from "../api/client";

export type Account = Schemas["AccountRead"];
export type CashKind = Schemas["CashFlowCreate"]["kind"];
export const CASH_KINDS: CashKind[] = ["deposit", "withdrawal", "fee", "payout"];
export const ACCOUNT_TYPES: Account["type"][] = ["cash", "margin", "funded", "evaluation"];

/** An amount in `currency` (ISO 4217), two decimals, minus sign before the symbol. */
export function inCurrency(value: number | null | undefined, currency: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Math.abs(value));
  return value < 0 && Number(Math.abs(value).toFixed(2)) !== 0 ? `-${text}` : text;
}

export interface CashForm {
  kind: CashKind;
  amount: string;
  ts: string; // a local date-time from <input type="datetime-local">, converted by the caller
  currency: string;
  note: string;
}

/** The cash-flow form checked as the API would: problems by field, or none. */
export function cashProblems(form: CashForm): Record<string, string> {
  const problems: Record<string, string> = {};
  const amount = Number(form.amount);
  if (!form.amount.trim() || !Number.isFinite(amount) || amount <= 0) problems.amount = "a positive amount: the kind says which way it goes";
  if (!form.ts) problems.ts = "when the money moved";
  if (form.currency && !/^[A-Z]{3}$/.test(form.currency)) problems.currency = "three capital letters (ISO 4217, e.g. USD), or empty for the account's";
  return problems;
}

export interface MissingRateBody {
  error?: string;
  missing_rates?: { pair: string; day: string }[];
}

/** "Missing FX rates: EURUSD on 2024-01-03, ..." or null when the error is another. */
export function missingRates(body: MissingRateBody | undefined): string | null {
  if (body?.error !== "missing_rate" || !body.missing_rates?.length) return null;
  return `Missing FX rates: ${body.missing_rates.map((m) => `${m.pair} on ${m.day}`).join(", ")}. Push the pair's 1d bars or enter the rate below.`;
}
