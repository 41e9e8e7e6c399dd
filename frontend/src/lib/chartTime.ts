// Time axes of the charts: ticks in the user's time zone (the one the tables use),
// as dates over long spans and as times of day over short ones.

const HOUR = 3_600_000;

/** Curve points a page asks the API for (it downsamples, keeping every high and low). */
export const MAX_POINTS = 1000;

/** A tick formatter for a time axis spanning `spanMs`, in `timeZone` (the browser's when unset). */
export function timeTick(spanMs: number, timeZone?: string, locale?: string): (ms: number) => string {
  const options: Intl.DateTimeFormatOptions =
    spanMs <= 36 * HOUR
      ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
      : spanMs <= 120 * 24 * HOUR
        ? { month: "short", day: "numeric" }
        : { year: "numeric", month: "short" };
  const format = new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone || undefined });
  return (ms: number) => (Number.isFinite(ms) ? format.format(new Date(ms)) : "");
}

/** The time axis' title: what it shows and in which zone. */
export function timeAxisTitle(timeZone?: string): string {
  const zone = timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `Exit time (${zone})`;
}
