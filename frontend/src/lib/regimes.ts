// Regime colours and the trend × volatility performance matrix.

export const TRENDS = ["up", "range", "down"] as const;
export const VOLATILITIES = ["low", "normal", "high"] as const;

export const TREND_COLORS: Record<string, string> = { up: "#26a69a", range: "#9e9e9e", down: "#ef5350" };

export interface Segment {
  start: string;
  end: string | null;
  trend: string;
  volatility: string;
}

/** A lookup from a time (UTC seconds) to its segment, by binary search over sorted starts. */
export function segmentLookup(segments: Segment[]): (timeSec: number) => Segment | undefined {
  const starts = segments.map((s) => Date.parse(s.start) / 1000);
  const ends = segments.map((s) => (s.end ? Date.parse(s.end) / 1000 : Infinity));
  return (timeSec) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= timeSec) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && timeSec < ends[found] ? segments[found] : undefined;
  };
}

export interface Cell {
  trend: string;
  volatility: string;
  group?: { key: string; [metric: string]: unknown };
}

/** Breakdown groups keyed `trend / volatility` laid out as rows of trends × columns of volatilities. */
export function regimeMatrix(groups: { key: string; [metric: string]: unknown }[]): Cell[][] {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  return TRENDS.map((trend) => VOLATILITIES.map((volatility) => ({ trend, volatility, group: byKey.get(`${trend} / ${volatility}`) })));
}
