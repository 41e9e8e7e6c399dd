// The journal's pure logic (issue 18): rule ticks in three states, the review keys,
// image checks before an upload, the checklist editor's moves and the journal's months.

/** A rule tick as the API holds it: followed, broken, or not ticked (null). */
export type Tick = boolean | null;

/** One click moves a rule on: not ticked → followed → broken → not ticked. */
export function nextTick(tick: Tick): Tick {
  if (tick === null) return true;
  if (tick) return false;
  return null;
}

/** The tick in words (a checkbox cannot say "broken" on its own). */
export function tickLabel(tick: Tick): string {
  return tick === null ? "not ticked" : tick ? "followed" : "broken";
}

/** Followed over ticked rules (null when none is ticked), as the API computes adherence. */
export function adherenceOf(ticks: Tick[]): number | null {
  const ticked = ticks.filter((tick) => tick !== null);
  if (ticked.length === 0) return null;
  return ticked.filter((tick) => tick === true).length / ticked.length;
}

export type ReviewAction = "next" | "review";

interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target: EventTarget | null;
}

/** True while the user is typing: in a field, a select, or an editable element. */
export function isTyping(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).closest !== "function") return false;
  const element = target as HTMLElement;
  if (element.isContentEditable) return true;
  return !!element.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
}

/** The review key pressed: "n" the next unreviewed trade, "r" mark this one reviewed; never while typing or with a modifier. */
export function reviewKey(event: KeyLike): ReviewAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return null;
  if (event.key === "n" || event.key === "N") return "next";
  if (event.key === "r" || event.key === "R") return "review";
  return null;
}

/** What a trade list hands the trade it opens (router state): its filters, so "n" walks the same list. */
export type ListState = { listQuery?: Record<string, string | number | undefined> };

/** The next-unreviewed query for "n" after `tradeId`: the opening list's filters (from router
 * state; none when the page was opened otherwise), less its review filter, which "unreviewed" replaces. */
export function nextUnreviewedQuery(state: unknown, tradeId: number): Record<string, string | number | undefined> {
  const listQuery = (state as ListState | null)?.listQuery;
  const query: Record<string, string | number | undefined> = {};
  if (listQuery && typeof listQuery === "object") {
    for (const [name, value] of Object.entries(listQuery)) {
      if (name !== "review" && (typeof value === "string" || typeof value === "number")) query[name] = value;
    }
  }
  query.after = tradeId;
  return query;
}

/** The image types the server takes (it checks the content; this saves a refused upload). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** Why a file cannot be attached (type or size, naming the file and the limit), or null. */
export function imageProblem(file: { name: string; type: string; size: number }): string | null {
  const name = file.name || "the pasted image";
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) {
    return `${name}: ${file.type || "an unknown type"} is not an image the journal takes (PNG, JPEG or WebP)`;
  }
  if (file.size > MAX_IMAGE_BYTES) {
    return `${name}: ${(file.size / 1024 / 1024).toFixed(1)} MiB is over the 10 MiB limit`;
  }
  return null;
}

/** The files of a paste or drop that are images (the rest is text or other files). */
export function imageFiles(files: ArrayLike<File> | null | undefined): File[] {
  return Array.from(files ?? []).filter((file) => file.type.startsWith("image/"));
}

/** `X-Filename` may only hold printable ASCII (a header); other names go without it. */
export function filenameHeader(name: string): string | null {
  const trimmed = name.trim().slice(0, 200);
  return trimmed && /^[\x20-\x7e]+$/.test(trimmed) ? trimmed : null;
}

/** The list with item `index` moved by `delta` places (kept inside the list). */
export function move<T>(list: T[], index: number, delta: number): T[] {
  const target = index + delta;
  if (index < 0 || index >= list.length || target < 0 || target >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(index, 1);
  next.splice(target, 0, item);
  return next;
}

/** `YYYY-MM` moved by `delta` months. */
export function shiftMonth(month: string, delta: number): string {
  const [y, m] = month.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1 + delta, 1));
  return date.toISOString().slice(0, 7);
}

/** The days of `YYYY-MM` as Monday-first weeks (null pads), and the first and last day. */
export function monthDays(month: string): { cells: (string | null)[]; first: string; last: string } {
  const [y, m] = month.split("-").map(Number);
  const length = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const pad = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7;
  const cells: (string | null)[] = Array(pad).fill(null);
  for (let d = 1; d <= length; d++) cells.push(`${month}-${String(d).padStart(2, "0")}`);
  return { cells, first: `${month}-01`, last: `${month}-${String(length).padStart(2, "0")}` };
}

/** Today's `YYYY-MM-DD` in `timeZone` (the user's: journal days are theirs). */
export function today(timeZone: string | undefined, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function isDay(text: string | undefined): text is string {
  return !!text && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
}

/** A 1..5 rating in words. */
export const RATINGS: Record<number, string> = { 1: "1 — poor", 2: "2", 3: "3 — okay", 4: "4", 5: "5 — excellent" };
