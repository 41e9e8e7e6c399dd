import { useCallback, useMemo, useState } from "react";
import { timeframeSeconds } from "../api/bars";
import { api, unwrap } from "../api/client";
import { CandleChart } from "../components/CandleChart";
import { ErrorNote, Loading } from "../components/Layout";
import { money, num, percent, pnlClass } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { regimeMatrix, segmentLookup, TREND_COLORS, VOLATILITIES } from "../lib/regimes";

type Mode = "live" | "paper" | "backtest";

export default function Regimes() {
  const instruments = useLoad((signal) => unwrap(api.GET("/api/instruments", { signal })), []);
  const [symbol, setSymbol] = useState<string>("");
  const [timeframe, setTimeframe] = useState("5m");
  const [method, setMethod] = useState<"" | "rules" | "gmm">("");
  const [mode, setMode] = useState("");
  const chosen = symbol || instruments.data?.[0]?.symbol || "";

  const timeline = useLoad(
    async (signal) =>
      chosen
        ? unwrap(api.GET("/api/regimes/timeline", { params: { query: { symbol: chosen, timeframe, method: method || undefined } }, signal }))
        : undefined,
    [chosen, timeframe, method],
  );
  const breakdown = useLoad(
    async (signal) =>
      (await unwrap(api.GET("/api/portfolio/breakdowns", { params: { query: { by: "regime", mode: (mode || undefined) as Mode | undefined } }, signal }))) as unknown as {
        groups: { key: string; [m: string]: unknown }[];
      },
    [mode],
  );

  const segments = timeline.data?.segments;
  const lookup = useMemo(() => segmentLookup(segments ?? []), [segments]);
  const colorOf = useCallback((timeSec: number) => {
    const segment = lookup(timeSec);
    return segment ? TREND_COLORS[segment.trend] : undefined;
  }, [lookup]);
  const range = useMemo(() => {
    if (!segments?.length) return null;
    const last = segments[segments.length - 1];
    const to = Date.parse(last.end ?? last.start) / 1000;
    return { from: Math.max(Date.parse(segments[0].start) / 1000, to - 300 * timeframeSeconds(timeframe)), to };
  }, [segments, timeframe]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Regimes</h1>
        <div className="filters">
          <label>
            Symbol
            <select value={chosen} onChange={(e) => setSymbol(e.target.value)}>
              {(instruments.data ?? []).map((i) => (
                <option key={i.symbol}>{i.symbol}</option>
              ))}
            </select>
          </label>
          <label>
            Timeframe
            <select value={timeframe} onChange={(e) => setTimeframe(e.target.value)}>
              {["1m", "5m", "15m", "1h", "1d"].map((tf) => (
                <option key={tf}>{tf}</option>
              ))}
            </select>
          </label>
          <label>
            Method
            <select value={method} onChange={(e) => setMethod(e.target.value as "" | "rules" | "gmm")}>
              <option value="">my default</option>
              <option value="rules">rules</option>
              <option value="gmm">gmm</option>
            </select>
          </label>
        </div>
      </div>
      <ErrorNote error={timeline.error ?? instruments.error} />
      <section className="panel">
        <h2>Price coloured by trend regime</h2>
        <p className="legend">
          {Object.entries(TREND_COLORS).map(([trend, color]) => (
            <span key={trend}>
              <i style={{ background: color }} /> {trend}
            </span>
          ))}
          <span className="dim">uncoloured: not enough history to classify</span>
        </p>
        {!chosen ? (
          <p className="dim">No instruments yet.</p>
        ) : timeline.loading && !timeline.data ? (
          <Loading />
        ) : range ? (
          <CandleChart symbol={chosen} timeframe={timeframe} fromSec={range.from} toSec={range.to} colorOf={colorOf} height={360} />
        ) : (
          <p className="dim">No regime segments for {chosen} at {timeframe}: the classifier needs more bars than are stored.</p>
        )}
        {segments && <p className="dim">{segments.length} segments · {timeline.data?.method} v{timeline.data?.version}</p>}
      </section>
      <section className="panel">
        <div className="page-head">
          <h2>Performance by regime (trend × volatility)</h2>
          <label className="filters">
            Mode
            <select value={mode} onChange={(e) => setMode(e.target.value)}>
              <option value="">all</option>
              <option>live</option>
              <option>paper</option>
              <option>backtest</option>
            </select>
          </label>
        </div>
        <ErrorNote error={breakdown.error} />
        <div className="table-wrap">
          <table className="matrix" data-testid="regime-matrix">
            <thead>
              <tr>
                <th>trend \ volatility</th>
                {VOLATILITIES.map((v) => (
                  <th key={v}>{v}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {regimeMatrix(breakdown.data?.groups ?? []).map((row) => (
                <tr key={row[0].trend}>
                  <th>{row[0].trend}</th>
                  {row.map((cell) => {
                    const g = cell.group;
                    const pnl = typeof g?.net_pnl === "number" ? g.net_pnl : null;
                    return (
                      <td key={cell.volatility} className={pnlClass(pnl)}>
                        {g ? (
                          <>
                            <strong>{money(pnl)}</strong>
                            <br />
                            <span className="dim">
                              {num(g.trade_count as number, 0)} {g.trade_count === 1 ? "trade" : "trades"} · {percent(g.win_rate as number | null)} win · PF {num(g.profit_factor as number | null)}
                            </span>
                          </>
                        ) : (
                          <span className="dim">—</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {breakdown.data?.groups.some((g) => g.key.includes("unknown")) && (
          <p className="dim">
            Trades without a regime (not enough bars before entry):{" "}
            {breakdown.data.groups
              .filter((g) => g.key.includes("unknown"))
              .map((g) => `${g.key}: ${num(g.trade_count as number, 0)}`)
              .join(", ")}
          </p>
        )}
      </section>
    </div>
  );
}
