// The Import page's logic without React: the generic CSV mapping (which fields are
// needed, a first guess from the header), upload and import progress as numbers and
// texts, the stream's import events folded into the status, and the summary's lines.
// The upload itself goes through XMLHttpRequest: fetch reports no upload progress.
import { ApiError, getToken, type ApiErrorBody, type Schemas } from "../api/client";
import { num } from "./format";

export type ImportPreview = Schemas["ImportPreview"];
export type ImportStatus = Schemas["ImportStatus"];
export type ImportSummary = Schemas["ImportSummary"];
export type ImportFill = Schemas["PreviewFill"];
export type ImportInstrument = Schemas["PreviewInstrument"];
export type ImportFormat = Schemas["FormatRead"];
export type SavedMapping = Schemas["SavedMapping"];

/** The fields a fill needs from a generic CSV, then the ones it may have. */
export const REQUIRED_FIELDS = ["time", "symbol", "qty", "price"] as const;
export const OPTIONAL_FIELDS = ["side", "commission", "execution_id", "order_id", "account"] as const;
export type MappingField = (typeof REQUIRED_FIELDS)[number] | (typeof OPTIONAL_FIELDS)[number];

export const FIELD_LABELS: Record<MappingField, string> = {
  time: "Time",
  symbol: "Symbol",
  side: "Side (buy/sell; none: the sign of the quantity)",
  qty: "Quantity (contracts/shares)",
  price: "Price",
  commission: "Commission (account currency)",
  execution_id: "Execution id",
  order_id: "Order id",
  account: "Account",
};

/** A column chosen per field; "" or absent: not chosen. */
export type Mapping = Partial<Record<MappingField, string>>;

/** The needed fields with no column chosen, or chosen columns the file does not have. */
export function missingFields(mapping: Mapping, columns: readonly string[]): MappingField[] {
  return REQUIRED_FIELDS.filter((field) => {
    const column = mapping[field];
    return !column || !columns.includes(column);
  });
}

/** Every needed field has a column of the file, and no column feeds two fields. */
export function mappingProblem(mapping: Mapping, columns: readonly string[]): string | null {
  const missing = missingFields(mapping, columns);
  if (missing.length) return `choose a column for ${missing.map((f) => FIELD_LABELS[f]).join(", ")}`;
  const seen = new Map<string, MappingField>();
  for (const [field, column] of Object.entries(mapping) as [MappingField, string | undefined][]) {
    if (!column) continue;
    const other = seen.get(column);
    if (other) return `column "${column}" is chosen for both ${FIELD_LABELS[other]} and ${FIELD_LABELS[field]}`;
    seen.set(column, field);
  }
  return null;
}

/** The mapping as the API takes it, only the chosen fields (sent once `mappingProblem` is null). */
export function mappingBody(mapping: Mapping): Schemas["MappingColumns"] {
  return Object.fromEntries(Object.entries(mapping).filter(([, column]) => !!column)) as Schemas["MappingColumns"];
}

// Header names seen in broker exports, per field (compared without case, spaces, _ or -).
const GUESSES: Record<MappingField, string[]> = {
  time: ["time", "datetime", "timestamp", "date/time", "executiontime", "filltime", "tradetime", "tradedate", "ts", "date"],
  symbol: ["symbol", "instrument", "ticker", "contract", "security"],
  side: ["side", "action", "buy/sell", "b/s", "direction", "type"],
  qty: ["qty", "quantity", "size", "filledqty", "shares", "contracts", "volume"],
  price: ["price", "fillprice", "avgprice", "executionprice", "tradeprice"],
  commission: ["commission", "commissions", "fee", "fees", "comm"],
  execution_id: ["executionid", "execid", "fillid", "tradeid", "id"],
  order_id: ["orderid", "ordernumber", "order"],
  account: ["account", "accountid", "accountname"],
};

const squash = (text: string) => text.toLowerCase().replace(/[\s_-]/g, "");

/** A first mapping from the header: each field gets the first column named like it, once. */
export function guessMapping(columns: readonly string[]): Mapping {
  const mapping: Mapping = {};
  const used = new Set<string>();
  for (const field of [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS]) {
    for (const name of GUESSES[field]) {
      const column = columns.find((c) => !used.has(c) && squash(c) === name);
      if (column) {
        mapping[field] = column;
        used.add(column);
        break;
      }
    }
  }
  return mapping;
}

/** A fraction 0…1 of `done` out of `total` (0 for an empty total, never above 1). */
export function fraction(done: number, total: number): number {
  if (!(total > 0) || !(done > 0)) return 0;
  return Math.min(1, done / total);
}

export function bytes(count: number): string {
  if (count < 1024) return `${num(count, 0)} B`;
  if (count < 1024 * 1024) return `${num(count / 1024, 1)} KiB`;
  return `${num(count / (1024 * 1024), 1)} MiB`;
}

/** "1.5 MiB of 3.0 MiB sent (50%)". */
export function uploadText(loaded: number, total: number): string {
  return `${bytes(loaded)} of ${bytes(total)} sent (${Math.round(fraction(loaded, total) * 100)}%)`;
}

/** "1,200 of 5,000 fills stored or checked (24%)". */
export function progressText(progress: ImportStatus["progress"]): string {
  return `${num(progress.done, 0)} of ${num(progress.total, 0)} fills written (${Math.round(fraction(progress.done, progress.total) * 100)}%)`;
}

function plural(count: number, one: string, many: string): string {
  return `${num(count, 0)} ${count === 1 ? one : many}`;
}

/** The summary's headline facts, each a label and its count. */
export function summaryLines(summary: ImportSummary): { label: string; value: string; testId: string }[] {
  return [
    { label: "Fills stored", value: plural(summary.stored, "fill", "fills"), testId: "summary-stored" },
    { label: "Duplicates (already stored, skipped)", value: plural(summary.duplicates, "fill", "fills"), testId: "summary-duplicates" },
    { label: "Refused", value: plural(summary.refused_total, "row", "rows"), testId: "summary-refused" },
    { label: "Trades rebuilt", value: plural(summary.trades_rebuilt, "trade", "trades"), testId: "summary-trades" },
  ];
}

/** One sentence for the whole import. */
export function summarySentence(summary: ImportSummary): string {
  const parts = [`${plural(summary.stored, "fill", "fills")} stored`];
  if (summary.duplicates) parts.push(`${plural(summary.duplicates, "duplicate", "duplicates")} skipped`);
  if (summary.refused_total) parts.push(`${plural(summary.refused_total, "row", "rows")} refused`);
  parts.push(`${plural(summary.trades_rebuilt, "trade", "trades")} rebuilt`);
  return `${parts.join(", ")}.`;
}

/** The preview's counts in a sentence: what confirming would do (`fills_total`: the new
 *  fills; duplicates of stored fills are counted apart). */
export function previewSentence(preview: Pick<ImportPreview, "rows_total" | "fills_total" | "duplicates_total" | "skipped_total">): string {
  const parts = [`${plural(preview.rows_total, "row", "rows")} read`, `${plural(preview.fills_total, "new fill", "new fills")} to store`];
  if (preview.duplicates_total) parts.push(`${plural(preview.duplicates_total, "duplicate", "duplicates")} already stored`);
  if (preview.skipped_total) parts.push(`${plural(preview.skipped_total, "row", "rows")} skipped`);
  return `${parts.join(", ")}.`;
}

/** A stream message about an import (`import_progress` / `import_finished`). */
export interface ImportEvent {
  type: string;
  import_id?: unknown;
  done?: unknown;
  total?: unknown;
  state?: unknown;
}

/**
 * The status after a stream message: progress moves forward only (a late message never
 * moves the bar back), a message for another import changes nothing, and
 * `import_finished` asks for the full status (`refetch`: its summary is not in the message).
 */
export function applyEvent(status: ImportStatus, event: ImportEvent): { status: ImportStatus; refetch: boolean } {
  if (event.import_id !== status.id) return { status, refetch: false };
  if (event.type === "import_finished") return { status, refetch: true };
  if (event.type !== "import_progress" || status.state !== "running") return { status, refetch: false };
  const done = typeof event.done === "number" ? event.done : status.progress.done;
  const total = typeof event.total === "number" ? event.total : status.progress.total;
  if (done <= status.progress.done && total === status.progress.total) return { status, refetch: false };
  return { status: { ...status, progress: { done: Math.max(done, status.progress.done), total } }, refetch: false };
}

/** The time of a fill in UTC as the preview shows it: `2023-12-15 14:30:05 UTC`. */
export function utcText(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  const fractionPart = text.slice(19, 23) === ".000" ? "" : text.slice(19, 23);
  return `${text.slice(0, 10)} ${text.slice(11, 19)}${fractionPart} UTC`;
}

export interface UploadOptions {
  format?: string;
  tz?: string;
  onProgress?: (loaded: number, total: number) => void;
  /** Tests pass their own; the browser's otherwise. */
  XHR?: typeof XMLHttpRequest;
}

/** POST the raw file to /api/imports, reporting bytes sent; the preview, or an ApiError. */
export function uploadImport(file: Blob & { name: string }, options: UploadOptions = {}): Promise<ImportPreview> {
  const query = new URLSearchParams({ filename: file.name });
  if (options.format) query.set("format", options.format);
  if (options.tz) query.set("tz", options.tz);
  const Impl = options.XHR ?? XMLHttpRequest;
  return new Promise((resolve, reject) => {
    const request = new Impl();
    request.open("POST", `/api/imports?${query}`);
    const token = getToken();
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (event: ProgressEvent) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onerror = () => reject(new Error("the upload failed: the server could not be reached"));
    request.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status >= 200 && request.status < 300) resolve(body as ImportPreview);
      else reject(new ApiError(request.status, body as ApiErrorBody | undefined));
    };
    request.send(file);
  });
}
