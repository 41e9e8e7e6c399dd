// Recharts pieces: equity and drawdown curves, bars per group. Loaded with the pages
// that use them (never in the entry chunk).
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Cell, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { dateTime, money } from "../lib/format";

export interface EquityPoint {
  ts: string;
  equity: number;
  drawdown: number;
}

const axis = { stroke: "var(--text-dim)", fontSize: 11 };
const tooltipStyle = { background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" };

export function EquityCharts({ points }: { points: EquityPoint[] }) {
  if (points.length === 0) return <p className="dim">No closed trades yet.</p>;
  const data = points.map((p, i) => ({ ...p, n: i + 1 }));
  return (
    <div className="chart-pair" data-testid="equity-chart">
      <div>
        <h3>Equity</h3>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={data} margin={{ left: 8, right: 8, top: 8, bottom: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
            <XAxis dataKey="n" {...axis} />
            <YAxis {...axis} width={70} domain={["auto", "auto"]} tickFormatter={(v: number) => money(v, 0)} />
            <Tooltip contentStyle={tooltipStyle} labelFormatter={(_l, items) => dateTime(items?.[0]?.payload?.ts)} formatter={(v) => money(Number(v))} />
            <Line type="linear" dataKey="equity" stroke="var(--accent)" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <div>
        <h3>Drawdown</h3>
        <ResponsiveContainer width="100%" height={220}>
          <AreaChart data={data} margin={{ left: 8, right: 8, top: 8, bottom: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
            <XAxis dataKey="n" {...axis} />
            <YAxis {...axis} width={70} tickFormatter={(v: number) => money(v, 0)} />
            <Tooltip contentStyle={tooltipStyle} labelFormatter={(_l, items) => dateTime(items?.[0]?.payload?.ts)} formatter={(v) => money(Number(v))} />
            <Area type="linear" dataKey="drawdown" stroke="var(--neg)" fill="var(--neg)" fillOpacity={0.25} isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

export function GroupBars({ groups, valueKey = "net_pnl" }: { groups: { key: string; [k: string]: unknown }[]; valueKey?: string }) {
  const data = groups.map((g) => ({ key: g.key, value: Number(g[valueKey] ?? 0) }));
  return (
    <ResponsiveContainer width="100%" height={200}>
      <BarChart data={data} margin={{ left: 8, right: 8, top: 8, bottom: 0 }}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="key" {...axis} />
        <YAxis {...axis} width={70} domain={[(low: number) => Math.min(0, low), (high: number) => Math.max(0, high)]} tickFormatter={(v: number) => money(v, 0)} />
        <Tooltip contentStyle={tooltipStyle} formatter={(v) => money(Number(v))} cursor={{ fill: "var(--hover)" }} />
        <Bar dataKey="value" isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.key} fill={d.value >= 0 ? "var(--pos)" : "var(--neg)"} />
          ))}
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
