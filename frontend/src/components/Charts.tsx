// Recharts pieces: equity and drawdown curves, bars per group. Loaded with the pages
// that use them (never in the entry chunk).
import { useState } from "react";
import { errorBar, intervalOf, thin, type Interval } from "../lib/intervals";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Cell, ErrorBar, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { timeAxisTitle, timeTick } from "../lib/chartTime";
import { dateTime, money, num } from "../lib/format";

/** A point of GET .../series (or /api/portfolio): after the exit of trade `n`. */
export interface EquityPoint {
  n?: number;
  ts: string;
  equity: number;
  drawdown: number;
  drawdown_pct?: number | null;
}

type Plotted = EquityPoint & { n: number; t: number };
type Axis = "time" | "trade";

const axis = { stroke: "var(--text-dim)", fontSize: 11 };
const axisTitle = { fill: "var(--text-dim)", fontSize: 11 };
const tooltipStyle = { background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" };

function plotted(points: EquityPoint[]): Plotted[] {
  return points.map((p, i) => ({ ...p, n: p.n ?? i + 1, t: Date.parse(p.ts) }));
}

/** The point with the lowest drawdown (the first of equal ones): the chart's trough. */
export function trough<T extends { drawdown: number }>(points: T[]): T | undefined {
  return points.reduce<T | undefined>((low, p) => (low === undefined || p.drawdown < low.drawdown ? p : low), undefined);
}

function xAxis(mode: Axis, data: Plotted[], timeZone: string | undefined) {
  const span = data.length ? data[data.length - 1].t - data[0].t : 0;
  return mode === "time" ? (
    <XAxis
      dataKey="t"
      type="number"
      scale="time"
      domain={["dataMin", "dataMax"]}
      tickFormatter={timeTick(span, timeZone)}
      height={42}
      label={{ value: timeAxisTitle(timeZone), position: "insideBottom", offset: 0, ...axisTitle }}
      {...axis}
    />
  ) : (
    <XAxis
      dataKey="n"
      type="number"
      domain={["dataMin", "dataMax"]}
      allowDecimals={false}
      height={42}
      label={{ value: "Trade number (in exit order)", position: "insideBottom", offset: 0, ...axisTitle }}
      {...axis}
    />
  );
}

function yTitle(value: string) {
  return { value, angle: -90, position: "insideLeft" as const, style: { textAnchor: "middle" as const }, ...axisTitle };
}

function tooltipLabel(_label: unknown, items: readonly { payload?: Plotted }[] | undefined): string {
  const point = items?.[0]?.payload;
  return point ? `${dateTime(point.ts)} · trade ${num(point.n, 0)}` : "";
}

/**
 * Equity and its drawdown after each exit, against exit time (or trade number), in
 * the user's time zone. `total` is the number of exits the (downsampled) points stand for.
 */
export function EquityCharts({ points, total, timeZone }: { points: EquityPoint[]; total?: number; timeZone?: string }) {
  const [mode, setMode] = useState<Axis>("time");
  if (points.length === 0) return <p className="dim">No closed trades yet.</p>;
  const data = plotted(points);
  const low = trough(data)!;
  const exits = total ?? data.length;
  return (
    <div data-testid="equity-chart" data-points={data.length}>
      <div className="chart-head">
        <div className="tabs" role="tablist" aria-label="Horizontal axis">
          {(["time", "trade"] as const).map((m) => (
            <button key={m} role="tab" aria-selected={mode === m} className={mode === m ? "active" : ""} onClick={() => setMode(m)}>
              {m === "time" ? "By exit time" : "By trade number"}
            </button>
          ))}
        </div>
        {exits > data.length && (
          <span className="dim" data-testid="downsampled">
            {num(data.length, 0)} of {num(exits, 0)} exits drawn; every high and low kept
          </span>
        )}
      </div>
      <div className="chart-pair">
        <div>
          <h3>Equity after each exit</h3>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={data} margin={{ left: 16, right: 8, top: 8, bottom: 4 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
              {xAxis(mode, data, timeZone)}
              <YAxis {...axis} width={78} domain={["auto", "auto"]} tickFormatter={(v: number) => money(v, 0)} label={yTitle("Equity ($)")} />
              <Tooltip contentStyle={tooltipStyle} labelFormatter={tooltipLabel} formatter={(v) => [money(Number(v)), "Equity"]} />
              <Line type="linear" dataKey="equity" stroke="var(--accent)" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <div>
          <h3>Drawdown (closed trades)</h3>
          <ResponsiveContainer width="100%" height={240}>
            <AreaChart data={data} margin={{ left: 16, right: 8, top: 8, bottom: 4 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
              {xAxis(mode, data, timeZone)}
              <YAxis {...axis} width={78} tickFormatter={(v: number) => money(v, 0)} label={yTitle("Below peak ($)")} />
              <Tooltip contentStyle={tooltipStyle} labelFormatter={tooltipLabel} formatter={(v) => [money(Number(v)), "Drawdown"]} />
              <Area type="linear" dataKey="drawdown" stroke="var(--neg)" fill="var(--neg)" fillOpacity={0.25} isAnimationActive={false} />
            </AreaChart>
          </ResponsiveContainer>
          <p className="dim chart-note" data-testid="drawdown-trough">
            Lowest: <span data-testid="trough-value">{money(low.drawdown)}</span> after trade {num(low.n, 0)}, {dateTime(low.ts)}
          </p>
        </div>
      </div>
    </div>
  );
}

/** Two or more runs' equity on one time axis (Compare). */
export function EquityOverlay({ runs, timeZone }: { runs: { name: string; color: string; points: EquityPoint[] }[]; timeZone?: string }) {
  const lines = runs.map((r) => ({ ...r, data: plotted(r.points) })).filter((r) => r.data.length);
  if (!lines.length) return <p className="dim">No closed trades yet.</p>;
  const all = lines.flatMap((r) => r.data).sort((x, y) => x.t - y.t);
  return (
    <div data-testid="equity-overlay" data-lines={lines.length}>
      <ResponsiveContainer width="100%" height={260}>
        <LineChart margin={{ left: 16, right: 8, top: 8, bottom: 4 }}>
          <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
          {xAxis("time", all, timeZone)}
          <YAxis {...axis} width={78} domain={["auto", "auto"]} tickFormatter={(v: number) => money(v, 0)} label={yTitle("Equity ($)")} />
          <Tooltip contentStyle={tooltipStyle} labelFormatter={(l) => dateTime(new Date(Number(l)).toISOString())} formatter={(v) => money(Number(v))} />
          <Legend verticalAlign="top" height={24} />
          {lines.map((r) => (
            <Line key={r.name} data={r.data} name={r.name} type="linear" dataKey="equity" stroke={r.color} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** One bar per breakdown group; with `intervals`, the 95 % interval of `valueKey` as an
 * error bar, and groups with too few trades drawn muted. */
export function GroupBars({
  groups,
  valueKey = "net_pnl",
  format = (v: number) => money(v),
  label,
  intervals = false,
}: {
  groups: { key: string; [k: string]: unknown }[];
  valueKey?: string;
  format?: (v: number) => string;
  label?: string;
  intervals?: boolean;
}) {
  const data = groups.map((g) => {
    const value = Number(g[valueKey] ?? 0);
    const interval = intervals ? intervalOf(g, valueKey) : undefined;
    return { key: g.key, value, error: errorBar(g[valueKey] as number | null, interval), interval, thin: thin(g) };
  });
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={data} margin={{ left: 8, right: 8, top: 8, bottom: 0 }}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="key" {...axis} />
        <YAxis
          {...axis}
          width={70}
          domain={[(low: number) => Math.min(0, low), (high: number) => Math.max(0, high)]}
          tickFormatter={(v: number) => format(v)}
          label={label ? { value: label, angle: -90, position: "insideLeft", fill: "var(--text-dim)", fontSize: 11, dx: -2 } : undefined}
        />
        <Tooltip
          contentStyle={tooltipStyle}
          formatter={(v, _name, item) => {
            const row = item?.payload as { interval?: Interval; thin?: string | null } | undefined;
            const range = row?.interval
              ? ` (95 %: ${row.interval.ci_low === null ? "unbounded" : format(row.interval.ci_low)} to ${row.interval.ci_high === null ? "unbounded" : format(row.interval.ci_high)}, n = ${row.interval.n})`
              : "";
            return [`${format(Number(v))}${range}${row?.thin ? ` · ${row.thin}` : ""}`, label ?? valueKey];
          }}
          cursor={{ fill: "var(--hover)" }}
        />
        <Bar dataKey="value" isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.key} fill={d.value >= 0 ? "var(--pos)" : "var(--neg)"} fillOpacity={d.thin ? 0.35 : 1} />
          ))}
          {intervals && <ErrorBar dataKey="error" width={6} strokeWidth={1.5} stroke="var(--text)" direction="y" />}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

export interface CurvePoint {
  x: number;
  [series: string]: number;
}

/** Learning curves and other numeric series against a step axis. */
export function SeriesChart({ data, series }: { data: CurvePoint[]; series: { key: string; color: string }[] }) {
  return (
    <ResponsiveContainer width="100%" height={200}>
      <LineChart data={data} margin={{ left: 8, right: 8, top: 8, bottom: 0 }}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="x" {...axis} />
        <YAxis {...axis} width={60} domain={["auto", "auto"]} />
        <Tooltip contentStyle={tooltipStyle} />
        {series.map((s) => (
          <Line key={s.key} type="monotone" dataKey={s.key} stroke={s.color} dot={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

/** Net P&L of the trades that followed each rule beside those that broke it (a playbook's analytics). */
export function RuleBars({ rules }: { rules: { text: string; followed: number; broken: number }[] }) {
  if (rules.length === 0) return <p className="dim">No rules yet.</p>;
  const data = rules.map((r) => ({ rule: r.text.length > 28 ? `${r.text.slice(0, 27)}…` : r.text, full: r.text, followed: r.followed, broken: r.broken }));
  return (
    <div data-testid="rule-chart" data-rules={rules.length}>
      <ResponsiveContainer width="100%" height={Math.max(200, 60 + 46 * rules.length)}>
        <BarChart data={data} layout="vertical" margin={{ left: 8, right: 16, top: 8, bottom: 20 }}>
          <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
          <XAxis
            type="number"
            {...axis}
            domain={[(low: number) => Math.min(0, low), (high: number) => Math.max(0, high)]}
            tickFormatter={(v: number) => money(v, 0)}
            label={{ value: "Net P&L ($)", position: "insideBottom", offset: -12, ...axisTitle }}
          />
          <YAxis type="category" dataKey="rule" {...axis} width={150} />
          <Tooltip
            contentStyle={tooltipStyle}
            labelFormatter={(_l, items) => String((items?.[0]?.payload as { full?: string } | undefined)?.full ?? "")}
            formatter={(v, name) => [money(Number(v)), name === "followed" ? "Followed: net P&L" : "Broken: net P&L"]}
            cursor={{ fill: "var(--hover)" }}
          />
          <Legend verticalAlign="top" height={24} formatter={(name) => (name === "followed" ? "Rule followed" : "Rule broken")} />
          <Bar dataKey="followed" fill="var(--pos)" isAnimationActive={false} />
          <Bar dataKey="broken" fill="var(--neg)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
