// Number and time formatting shared by every page. Times are shown in the user's
// time zone (settings), falling back to the browser's.

let zone: string | undefined;

export function setTimeZone(name: string | undefined): void {
  zone = name || undefined;
}

export function money(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const sign = value < 0 ? "-" : "";
  return `${sign}$${Math.abs(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${(value * 100).toFixed(digits)}%`;
}

export function num(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? "-∞" : "—";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
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
