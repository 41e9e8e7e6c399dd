// Candlesticks with lightweight-charts v5, loading bars progressively: the window
// asked for first, then older (or newer) chunks as the user scrolls towards an edge.
// Bars travel as columnar MessagePack and live in typed arrays (api/bars.ts).
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineStyle,
  type CandlestickData,
  type IChartApi,
  type ISeriesApi,
  type LogicalRange,
  type SeriesMarker,
  type TickMarkType,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef, useState } from "react";
import { concatBars, emptyBars, fetchBars, timeframeSeconds, type BarColumns } from "../api/bars";
import { chartTime, tickMark, type TickKind } from "../lib/format";
import { chartColors } from "../lib/theme";

export interface ChartMarker {
  timeSec: number;
  side: "buy" | "sell";
  text: string;
  kind?: "entry" | "exit" | "fill";
}

export interface PriceLine {
  price: number;
  title: string;
  color?: string;
  dashed?: boolean;
}

interface Props {
  symbol: string;
  timeframe: string;
  /** The first window to show (UTC seconds); older and newer bars load on scroll. */
  fromSec: number;
  toSec: number;
  markers?: ChartMarker[];
  priceLines?: PriceLine[];
  /** Per-bar colour (e.g. by regime); default green/red by direction. */
  colorOf?: (timeSec: number) => string | undefined;
  height?: number;
}

const CHUNK = 1500; // bars per request when scrolling
const EDGE = 30; // start loading when this close (in bars) to an edge

/** The time of the bar containing `timeSec` (bars open on multiples of the timeframe). */
export function barTime(timeSec: number, timeframeSec: number): number {
  return Math.floor(timeSec / timeframeSec) * timeframeSec;
}

/** Markers in time order on bar times, as lightweight-charts wants them. */
export function toSeriesMarkers(markers: ChartMarker[], timeframeSec: number, colors: { up: string; down: string; accent: string }): SeriesMarker<Time>[] {
  return [...markers]
    .sort((a, b) => a.timeSec - b.timeSec)
    .map((m) => ({
      time: barTime(m.timeSec, timeframeSec) as UTCTimestamp,
      position: m.side === "buy" ? "belowBar" : "aboveBar",
      shape: m.kind === "fill" ? "circle" : m.side === "buy" ? "arrowUp" : "arrowDown",
      color: m.kind === "exit" ? colors.accent : m.side === "buy" ? colors.up : colors.down,
      text: m.text,
      size: m.kind === "fill" ? 0.6 : 1,
    }));
}

export function toCandles(bars: BarColumns, colorOf?: (timeSec: number) => string | undefined): CandlestickData<Time>[] {
  const out: CandlestickData<Time>[] = new Array(bars.time.length);
  for (let i = 0; i < bars.time.length; i++) {
    const candle: CandlestickData<Time> = {
      time: bars.time[i] as UTCTimestamp,
      open: bars.open[i],
      high: bars.high[i],
      low: bars.low[i],
      close: bars.close[i],
    };
    const colour = colorOf?.(bars.time[i]);
    if (colour) {
      candle.color = colour;
      candle.wickColor = colour;
      candle.borderColor = colour;
    }
    out[i] = candle;
  }
  return out;
}

export function CandleChart({ symbol, timeframe, fromSec, toSec, markers = [], priceLines = [], colorOf, height = 420 }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<string>("loading bars…");
  const [barCount, setBarCount] = useState(0);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const tf = timeframeSeconds(timeframe);
    const colors = chartColors();
    const chart: IChartApi = createChart(element, {
      height,
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: colors.text, attributionLogo: false },
      grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
      // Axis and crosshair in the user's time zone and locale (lib/format), not UTC.
      localization: { timeFormatter: (time: Time) => chartTime(time as number) },
      timeScale: {
        timeVisible: true,
        secondsVisible: tf < 60,
        borderColor: colors.grid,
        tickMarkFormatter: (time: Time, kind: TickMarkType) => tickMark(time as number, kind as TickKind),
      },
      rightPriceScale: { borderColor: colors.grid },
      crosshair: { mode: 0 },
    });
    const candles: ISeriesApi<"Candlestick"> = chart.addSeries(CandlestickSeries, {
      upColor: colors.up,
      downColor: colors.down,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
      borderVisible: false,
    });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" }, color: colors.grid, lastValueVisible: false, priceLineVisible: false });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    const seriesMarkers = createSeriesMarkers(candles, []);
    for (const line of priceLines) {
      candles.createPriceLine({
        price: line.price,
        title: line.title,
        color: line.color ?? colors.accent,
        lineWidth: 1,
        lineStyle: line.dashed ? LineStyle.Dashed : LineStyle.Solid,
        axisLabelVisible: true,
      });
    }

    let bars = emptyBars();
    let earliestAvailable: number | null = null; // first bar the server has
    let loadingOlder = false;
    let loadingNewer = false;
    let disposed = false;
    const controller = new AbortController();

    const render = () => {
      // Keep what the user looks at while chunks are added on either side.
      const view = bars.time.length ? chart.timeScale().getVisibleRange() : null;
      candles.setData(toCandles(bars, colorOf));
      const vol = [];
      for (let i = 0; i < bars.time.length; i++) {
        if (!Number.isNaN(bars.volume[i])) {
          vol.push({ time: bars.time[i] as UTCTimestamp, value: bars.volume[i], color: bars.close[i] >= bars.open[i] ? `${colors.up}55` : `${colors.down}55` });
        }
      }
      volume.setData(vol);
      seriesMarkers.setMarkers(toSeriesMarkers(markers, tf, colors));
      if (view) chart.timeScale().setVisibleRange(view);
      setBarCount(bars.time.length);
    };

    const loadOlder = async () => {
      if (loadingOlder || disposed || bars.time.length === 0) return;
      const first = bars.time[0];
      if (earliestAvailable !== null && first <= earliestAvailable) return;
      loadingOlder = true;
      setStatus("loading older bars…");
      try {
        // Walk back in widening windows so gaps (nights, weekends) do not stop the scroll.
        // A window of `span` seconds holds at most span/tf bars, so `limit` never cuts it.
        let windowEnd = first;
        let span = CHUNK * tf;
        let chunk = emptyBars();
        while (!disposed) {
          const start = Math.max(windowEnd - span, earliestAvailable ?? -Infinity);
          const limit = Math.min(50_000, Math.ceil(span / tf) + 1);
          chunk = await fetchBars({ symbol, timeframe, startSec: start, endSec: windowEnd, limit }, controller.signal);
          if (chunk.time.length > 0 || earliestAvailable === null || start <= earliestAvailable) break;
          windowEnd = start;
          span = Math.min(span * 4, 40_000 * tf);
        }
        if (chunk.time.length > 0 && !disposed) {
          // Keep only the newest CHUNK bars of the window so each step stays small.
          bars = concatBars(tail(chunk, CHUNK), { ...bars, nextStart: bars.nextStart });
          render();
        }
      } finally {
        loadingOlder = false;
        if (!disposed) setStatus("");
      }
    };

    let newerExhausted = false;
    const loadNewer = async () => {
      if (loadingNewer || disposed || newerExhausted || bars.time.length === 0) return;
      loadingNewer = true;
      try {
        // The first window had an end; after it, page forward until the server has no more.
        const startSec = bars.nextStart !== null ? bars.nextStart / 1e9 : bars.time[bars.time.length - 1] + tf;
        const chunk = await fetchBars({ symbol, timeframe, startSec, limit: CHUNK }, controller.signal);
        if (disposed) return;
        if (chunk.time.length === 0) newerExhausted = true;
        else {
          bars = concatBars(bars, chunk);
          if (chunk.nextStart === null) newerExhausted = true;
          render();
        }
      } finally {
        loadingNewer = false;
      }
    };

    const onRange = (range: LogicalRange | null) => {
      if (!range) return;
      if (range.from < EDGE) void loadOlder().catch(report);
      if (range.to > bars.time.length - EDGE) void loadNewer().catch(report);
    };
    const report = (error: unknown) => {
      if (!disposed && !(error instanceof DOMException && error.name === "AbortError")) setStatus(String(error instanceof Error ? error.message : error));
    };

    (async () => {
      const pad = Math.max(60 * tf, (toSec - fromSec) * 0.5);
      const [first, initial] = await Promise.all([
        fetchBars({ symbol, timeframe, limit: 1 }, controller.signal),
        fetchBars({ symbol, timeframe, startSec: barTime(fromSec - pad, tf), endSec: toSec + pad, limit: 5000 }, controller.signal),
      ]);
      if (disposed) return;
      earliestAvailable = first.time.length ? first.time[0] : null;
      bars = initial;
      render();
      setStatus(bars.time.length ? "" : "no bars stored for this symbol");
      if (bars.time.length) {
        const left = barTime(fromSec, tf) - 20 * tf;
        const right = barTime(toSec, tf) + 20 * tf;
        chart.timeScale().setVisibleRange({ from: left as UTCTimestamp, to: right as UTCTimestamp });
      }
      chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    })().catch(report);

    return () => {
      disposed = true;
      controller.abort();
      chart.remove();
    };
  }, [symbol, timeframe, fromSec, toSec, JSON.stringify(markers), JSON.stringify(priceLines), colorOf, height]);

  return (
    <div className="candle-chart">
      <div ref={container} style={{ height }} data-testid="candle-chart" data-bars={barCount} data-markers={markers.length} />
      <div className="dim chart-status" aria-live="polite">
        {status || `${barCount} bars · scroll left for older bars`}
      </div>
    </div>
  );
}

function tail(bars: BarColumns, count: number): BarColumns {
  if (bars.time.length <= count) return bars;
  const from = bars.time.length - count;
  return {
    time: bars.time.subarray(from),
    open: bars.open.subarray(from),
    high: bars.high.subarray(from),
    low: bars.low.subarray(from),
    close: bars.close.subarray(from),
    volume: bars.volume.subarray(from),
    nextStart: bars.nextStart,
  };
}
