// Number and time formatting shared by every page. Times are shown in the user's
// time zone (Settings; the browser's until the account is loaded) and every date and
// number in the browser's locale (Intl), so a US browser reads 12/15/2023 and a
// British one 15/12/2023. Charts use the same functions (chartTime, tickMark).

let zone: string | undefined;
let locale: string | undefined;

export function setTimeZone(name: string | undefined): void {
  zone = name || undefined;
  formatters.clear();
}

/** The locale for every format; undefined means the browser's (tests set one). */
export function setLocale(name: string | undefined): void {
  locale = name || undefined;
  formatters.clear();
}

export function timeZone(): string {
  return zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// Building an Intl formatter costs far more than using one: one per (kind, options).
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n${JSON.stringify(options)}`;
  let format = formatters.get(key) as Intl.NumberFormat | undefined;
  if (!format) formatters.set(key, (format = new Intl.NumberFormat(locale, options)));
  return format;
}

function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d${JSON.stringify(options)}`;
  let format = formatters.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) formatters.set(key, (format = new Intl.DateTimeFormat(locale, { timeZone: zone, ...options })));
  return format;
}

/** An amount in account currency (the service stores no currency per account: dollars). */
export function money(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = numberFormat({ style: "currency", currency: "USD", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Math.abs(value));
  // -0.004 rounds to 0.00: no minus sign on a zero shown.
  const shownZero = Number(Math.abs(value).toFixed(digits)) === 0;
  return value < 0 && !shownZero ? `-${text}` : text;
}

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return numberFormat({ style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function num(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? "-∞" : "—";
  return numberFormat({ maximumFractionDigits: digits }).format(value);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const DATE: Intl.DateTimeFormatOptions = { year: "numeric", month: "2-digit", day: "2-digit" };
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", second: "2-digit" };

/** An instant (ISO text, or Unix seconds) as date and time in the user's zone and locale. */
export function dateTime(value: string | number | null | undefined): string {
  const date = toDate(value);
  if (!date) return typeof value === "string" && value ? value : "—";
  return dateFormat({ ...DATE, ...TIME }).format(date);
}

/** Date and time to the minute (tables at phone width). */
export function dateTimeShort(value: string | number | null | undefined): string {
  const date = toDate(value);
  if (!date) return typeof value === "string" && value ? value : "—";
  return dateFormat({ ...DATE, hour: "2-digit", minute: "2-digit" }).format(date);
}

/** The calendar day of an instant in the user's zone, in the locale's order. */
export function dateOnly(value: string | number | null | undefined): string {
  const date = toDate(value);
  return date ? dateFormat(DATE).format(date) : "—";
}

/** The time of day of an instant, in the user's zone and locale. */
export function timeOnly(value: string | number | Date | null | undefined): string {
  const date = value instanceof Date ? value : toDate(value);
  return date ? dateFormat(TIME).format(date) : "—";
}

/** The crosshair label of a chart (UTC seconds in, the user's zone out). */
export function chartTime(timeSec: number): string {
  return dateFormat({ ...DATE, hour: "2-digit", minute: "2-digit" }).format(new Date(timeSec * 1000));
}

/** Tick kinds as lightweight-charts numbers them (TickMarkType): year … time with seconds. */
export type TickKind = 0 | 1 | 2 | 3 | 4;

/** A time-axis label for a tick of that kind, in the user's zone and locale. */
export function tickMark(timeSec: number, kind: TickKind): string {
  const options: Intl.DateTimeFormatOptions =
    kind === 0
      ? { year: "numeric" }
      : kind === 1
        ? { month: "short", year: "2-digit" }
        : kind === 2
          ? { day: "numeric", month: "short" }
          : kind === 3
            ? { hour: "2-digit", minute: "2-digit" }
            : TIME;
  return dateFormat(options).format(new Date(timeSec * 1000));
}

/** The parts of `date` as a wall clock in `zoneName` (numbers, 24-hour). */
function wallClock(date: Date, zoneName: string): number[] {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zoneName,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return [get("year"), get("month"), get("day"), get("hour"), get("minute"), get("second")];
}

/**
 * The instant (ISO, UTC) at which the wall clock in the user's zone reads `local`
 * (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, as date inputs give it): what a date filter
 * sends. A wall time skipped by a DST change maps to the instant just after the gap.
 */
export function zonedInstant(local: string, zoneName: string = timeZone()): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(local);
  if (!match) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map((v) => Number(v ?? 0));
  const wanted = Date.UTC(y, mo - 1, d, h, mi, s);
  // Guess the instant, see what the zone's clock says then, and correct by the difference
  // (twice: the offset at the corrected instant may differ near a DST change).
  const shown = (instant: number) => {
    const [wy, wmo, wd, wh, wmi, ws] = wallClock(new Date(instant), zoneName);
    return Date.UTC(wy, wmo - 1, wd, wh, wmi, ws);
  };
  const tried: number[] = [];
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const off = wanted - shown(guess);
    if (off === 0) return iso(guess);
    tried.push((guess += off));
  }
  // The clock never reads `local` (a DST gap): the later instant, just after the gap.
  return iso(Math.max(...tried));
}

function iso(instant: number): string {
  return new Date(instant).toISOString().replace(".000Z", "Z");
}

/** The unit a metric is in (from /api/metrics/definitions) decides its format. */
export function metricValue(value: unknown, unit: string | undefined): string {
  if (typeof value !== "number") return value === null || value === undefined ? "—" : String(value);
  switch (unit) {
    case "currency":
      return money(value);
    case "fraction":
      return percent(value);
    case "seconds":
      return duration(value);
    case "count":
      return num(value, 0);
    case "R":
      return `${num(value)}R`;
    default:
      return num(value, 3);
  }
}

export function pnlClass(value: number | null | undefined): string {
  if (value === null || value === undefined || value === 0) return "";
  return value > 0 ? "pos" : "neg";
}

/** `snake_case` → `Snake case`. */
export function label(name: string): string {
  const text = name.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
