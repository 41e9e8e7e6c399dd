// Bars as typed arrays, fetched as columnar MessagePack from GET /api/bars.
// The backend packs `{symbol, timeframe, ts: int[] (epoch ns), open: float[], ...,
// next_start}`; we keep seconds (lightweight-charts' time unit) in a Float64Array.
import { decode } from "@msgpack/msgpack";
import { ApiError, getToken, type ApiErrorBody, type Schemas } from "./client";

export interface BarColumns {
  time: Float64Array; // bar open, UTC epoch seconds
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array; // NaN where unknown
  nextStart: number | null; // epoch ns of the next chunk
}

type Columnar = Schemas["BarsColumnarRead"];

function toFloat(values: readonly (number | bigint | null)[], scale = 1): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out[i] = value === null ? NaN : Number(value) / scale;
  }
  return out;
}

/** Decodes one columnar MessagePack body into typed arrays. */
export function decodeBars(body: ArrayBuffer | Uint8Array): BarColumns {
  const raw = decode(body, { useBigInt64: true }) as unknown as Columnar;
  return {
    time: toFloat(raw.ts as unknown as bigint[], 1e9),
    open: toFloat(raw.open),
    high: toFloat(raw.high),
    low: toFloat(raw.low),
    close: toFloat(raw.close),
    volume: toFloat(raw.volume),
    nextStart: raw.next_start === null ? null : Number(raw.next_start),
  };
}

export function emptyBars(): BarColumns {
  const none = new Float64Array(0);
  return { time: none, open: none, high: none, low: none, close: none, volume: none, nextStart: null };
}

/** Joins chunks in time order, dropping a bar of `later` that repeats the last of `earlier`. */
export function concatBars(earlier: BarColumns, later: BarColumns): BarColumns {
  const last = earlier.time.length ? earlier.time[earlier.time.length - 1] : -Infinity;
  let skip = 0;
  while (skip < later.time.length && later.time[skip] <= last) skip++;
  const join = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(a.length + b.length - skip);
    out.set(a, 0);
    out.set(b.subarray(skip), a.length);
    return out;
  };
  return {
    time: join(earlier.time, later.time),
    open: join(earlier.open, later.open),
    high: join(earlier.high, later.high),
    low: join(earlier.low, later.low),
    close: join(earlier.close, later.close),
    volume: join(earlier.volume, later.volume),
    nextStart: later.nextStart,
  };
}

export interface BarsQuery {
  symbol: string;
  timeframe: string;
  startSec?: number; // inclusive
  endSec?: number; // exclusive
  limit?: number;
}

/** One chunk of bars in [start, end) as typed arrays (MessagePack on the wire). */
export async function fetchBars(query: BarsQuery, signal?: AbortSignal): Promise<BarColumns> {
  const params = new URLSearchParams({
    symbol: query.symbol,
    timeframe: query.timeframe,
    format: "columnar",
    limit: String(query.limit ?? 2000),
  });
  if (query.startSec !== undefined) params.set("start", String(BigInt(Math.floor(query.startSec)) * 1_000_000_000n));
  if (query.endSec !== undefined) params.set("end", String(BigInt(Math.ceil(query.endSec)) * 1_000_000_000n));
  const headers: Record<string, string> = { Accept: "application/msgpack" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/bars?${params}`, { headers, signal });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as ApiErrorBody | undefined;
    throw new ApiError(response.status, body);
  }
  return decodeBars(await response.arrayBuffer());
}

/** Seconds in a timeframe string such as `1s`, `5m`, `1h`, `1d`. */
export function timeframeSeconds(timeframe: string): number {
  const match = /^(\d+)([smhd])$/.exec(timeframe);
  if (!match) throw new Error(`timeframe must look like 5m or 1h, got ${timeframe}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
