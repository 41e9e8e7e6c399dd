import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialSettings } from "../components/ImportMapper";
import { setLocale } from "./format";
import {
  applyEvent,
  bytes,
  fraction,
  guessMapping,
  mappingBody,
  mappingProblem,
  missingFields,
  previewSentence,
  progressText,
  summaryLines,
  summarySentence,
  uploadImport,
  uploadText,
  utcText,
  type ImportStatus,
} from "./imports";

beforeAll(() => setLocale("en-US"));
afterAll(() => setLocale(undefined));

const COLUMNS = ["Date/Time", "Ticker", "Buy/Sell", "Quantity", "Fill Price", "Fees", "Trade ID"];

describe("mapping completeness", () => {
  it("names every needed field without a column, in the fields' order", () => {
    expect(missingFields({}, COLUMNS)).toEqual(["time", "symbol", "qty", "price"]);
    expect(missingFields({ time: "Date/Time", qty: "Quantity" }, COLUMNS)).toEqual(["symbol", "price"]);
  });

  it("counts a column the file does not have as not chosen", () => {
    const mapping = { time: "Date/Time", symbol: "Ticker", side: "Buy/Sell", qty: "Quantity", price: "Price" };
    expect(missingFields(mapping, COLUMNS)).toEqual(["price"]);
    expect(mappingProblem(mapping, COLUMNS)).toBe("choose a column for Price");
  });

  it("is complete with the four needed fields, optional ones (side too) left out", () => {
    const mapping = { time: "Date/Time", symbol: "Ticker", qty: "Quantity", price: "Fill Price", commission: "" };
    expect(mappingProblem(mapping, COLUMNS)).toBeNull();
    expect(mappingBody(mapping)).toEqual({ time: "Date/Time", symbol: "Ticker", qty: "Quantity", price: "Fill Price" });
  });

  it("refuses one column feeding two fields", () => {
    const mapping = { time: "Date/Time", symbol: "Ticker", side: "Buy/Sell", qty: "Quantity", price: "Fill Price", commission: "Quantity" };
    expect(mappingProblem(mapping, COLUMNS)).toBe('column "Quantity" is chosen for both Quantity (contracts/shares) and Commission (account currency)');
  });

  it("guesses the fields from broker header names, each column once", () => {
    expect(guessMapping(COLUMNS)).toEqual({
      time: "Date/Time",
      symbol: "Ticker",
      side: "Buy/Sell",
      qty: "Quantity",
      price: "Fill Price",
      commission: "Fees",
      execution_id: "Trade ID",
    });
    expect(guessMapping(["foo", "bar"])).toEqual({});
  });

  it("starts the picker from the preview's mapping, else from the guess", () => {
    const stored = { time: "Date/Time", symbol: "Ticker", qty: "Quantity", price: "Fill Price", side: null };
    expect(initialSettings({ mapping: stored, columns: COLUMNS }, "Europe/Berlin")).toEqual({ mapping: stored, tz: "Europe/Berlin", dateFormat: "" });
    expect(initialSettings({ mapping: null, columns: ["Symbol", "Price"] }, "UTC").mapping).toEqual({ symbol: "Symbol", price: "Price" });
  });
});

describe("progress", () => {
  it("is a fraction never above 1, 0 for an empty total", () => {
    expect(fraction(0, 0)).toBe(0);
    expect(fraction(5, 0)).toBe(0);
    expect(fraction(250, 1000)).toBe(0.25);
    expect(fraction(1200, 1000)).toBe(1);
  });

  it("says bytes sent with their unit", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(uploadText(1572864, 3145728)).toBe("1.5 MiB of 3 MiB sent (50%)");
  });

  it("says fills written out of the total", () => {
    expect(progressText({ done: 1200, total: 5000 })).toBe("1,200 of 5,000 fills written (24%)");
    expect(progressText({ done: 0, total: 0 })).toBe("0 of 0 fills written (0%)");
  });

  const running: ImportStatus = {
    id: 7,
    state: "running",
    filename: "a.csv",
    size_bytes: 100,
    format: "ninjatrader8",
    format_label: "NinjaTrader 8",
    created_at: "2023-12-15T14:30:05Z",
    finished_at: null,
    run_id: 3,
    progress: { done: 100, total: 400 },
    summary: null,
    error: null,
  };

  it("moves forward on import_progress for this import", () => {
    const { status, refetch } = applyEvent(running, { type: "import_progress", import_id: 7, done: 300, total: 400 });
    expect(status.progress).toEqual({ done: 300, total: 400 });
    expect(refetch).toBe(false);
  });

  it("never moves the bar back on a late message, ignores other imports", () => {
    expect(applyEvent(running, { type: "import_progress", import_id: 7, done: 50, total: 400 }).status).toBe(running);
    expect(applyEvent(running, { type: "import_progress", import_id: 8, done: 399, total: 400 }).status).toBe(running);
  });

  it("asks for the full status when the import finished", () => {
    expect(applyEvent(running, { type: "import_finished", import_id: 7 })).toEqual({ status: running, refetch: true });
    expect(applyEvent(running, { type: "import_finished", import_id: 9 }).refetch).toBe(false);
  });
});

describe("summary texts", () => {
  const summary = { stored: 12, duplicates: 1, refused_total: 2, refused: [{ row: 4, reason: "qty: must be > 0, got 0" }], trades_rebuilt: 3, run_id: 5 };

  it("labels each count with its unit", () => {
    expect(summaryLines(summary).map((l) => [l.label, l.value])).toEqual([
      ["Fills stored", "12 fills"],
      ["Duplicates (already stored, skipped)", "1 fill"],
      ["Refused", "2 rows"],
      ["Trades rebuilt", "3 trades"],
    ]);
  });

  it("says the whole import in one sentence, leaving out what did not happen", () => {
    expect(summarySentence(summary)).toBe("12 fills stored, 1 duplicate skipped, 2 rows refused, 3 trades rebuilt.");
    expect(summarySentence({ ...summary, stored: 0, duplicates: 9, refused_total: 0, trades_rebuilt: 0 })).toBe("0 fills stored, 9 duplicates skipped, 0 trades rebuilt.");
  });

  it("says what confirming a preview would store", () => {
    const preview = { rows_total: 10, fills_total: 5, duplicates_total: 3, skipped_total: 2 };
    expect(previewSentence(preview)).toBe("10 rows read, 5 new fills to store, 3 duplicates already stored, 2 rows skipped.");
    expect(previewSentence({ ...preview, duplicates_total: 0, skipped_total: 0, fills_total: 1, rows_total: 1 })).toBe("1 row read, 1 new fill to store.");
  });

  it("writes a fill's time in UTC", () => {
    expect(utcText("2023-12-15T14:30:05Z")).toBe("2023-12-15 14:30:05 UTC");
    expect(utcText("2023-12-15T09:30:05.250-05:00")).toBe("2023-12-15 14:30:05.250 UTC");
  });
});

describe("upload", () => {
  class FakeXHR {
    static last: FakeXHR;
    upload: { onprogress: ((e: Partial<ProgressEvent>) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    status = 0;
    responseText = "";
    url = "";
    headers: Record<string, string> = {};
    body: unknown;
    constructor() {
      FakeXHR.last = this;
    }
    open(_method: string, url: string) {
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    send(body: unknown) {
      this.body = body;
    }
  }

  it("sends the raw file with its name and format, and reports progress", async () => {
    const seen: [number, number][] = [];
    const file = new File(["a,b\n1,2\n"], "fills export.csv");
    const done = uploadImport(file, { format: "generic_csv", tz: "America/Chicago", onProgress: (l, t) => seen.push([l, t]), XHR: FakeXHR as unknown as typeof XMLHttpRequest });
    const xhr = FakeXHR.last;
    expect(xhr.url).toBe("/api/imports?filename=fills+export.csv&format=generic_csv&tz=America%2FChicago");
    expect(xhr.body).toBe(file);
    xhr.upload.onprogress?.({ loaded: 4, total: 8, lengthComputable: true });
    xhr.status = 201;
    xhr.responseText = JSON.stringify({ id: 3 });
    xhr.onload?.();
    await expect(done).resolves.toEqual({ id: 3 });
    expect(seen).toEqual([[4, 8]]);
  });

  it("turns a refusal into the server's message", async () => {
    const done = uploadImport(new File(["x"], "big.csv"), { XHR: FakeXHR as unknown as typeof XMLHttpRequest });
    const xhr = FakeXHR.last;
    xhr.status = 413;
    xhr.responseText = JSON.stringify({ error: "too_large", detail: "the file is 70 MiB, the limit is 64 MiB" });
    xhr.onload?.();
    await expect(done).rejects.toThrow("the file is 70 MiB, the limit is 64 MiB");
  });
});
