import { useState } from "react";
import { useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { PnlCalendar, type Day } from "../components/Calendar";
import { EquityCharts, GroupBars, type EquityPoint } from "../components/Charts";
import { intervalOf, intervalText, thin } from "../lib/intervals";
import { DataTable, type Column } from "../components/DataTable";
import { DerivationNote } from "../components/DerivationNote";
import { ErrorNote, Loading } from "../components/Layout";
import { HeadlineCards, MetricList, type MetricDoc } from "../components/Metrics";
import { TradeList } from "../components/TradeList";
import { useAuth } from "../lib/auth";
import { dateTime, num } from "../lib/format";
import { download } from "../lib/download";
import { useLoad, useStream } from "../lib/hooks";
import { metricLabel, metricText } from "../lib/metricDisplay";
import { useDefinitions } from "../lib/metricUnits";
import { MAX_POINTS } from "../lib/chartTime";

const DIMENSIONS = ["symbol", "direction", "regime", "hour", "weekday", "instance", "tag", "playbook", "mistake"] as const;
type Dimension = (typeof DIMENSIONS)[number];
type Group = { key: string; [metric: string]: unknown };

// What the breakdown chart draws: the ones with an interval get error bars
const CHART_METRICS = ["expectancy", "win_rate", "profit_factor", "net_pnl"] as const;
type ChartMetric = (typeof CHART_METRICS)[number];
const WITH_INTERVAL = new Set(["win_rate", "profit_factor", "expectancy", "expectancy_r"]);
const GROUP_METRICS = ["trade_count", "net_pnl", "win_rate", "profit_factor", "expectancy", "avg_hold_seconds"];

export default function RunDetail() {
  const runId = Number(useParams().runId);
  const definitions = useDefinitions();
  const timeZone = useAuth().user?.timezone;
  const [by, setBy] = useState<Dimension>("symbol");
  const [charted, setCharted] = useState<ChartMetric>("expectancy");
  const path = { params: { path: { run_id: runId } } };
  const run = useLoad((signal) => unwrap(api.GET("/api/runs/{run_id}", { ...path, signal })), [runId]);
  const metrics = useLoad(async (signal) => (await unwrap(api.GET("/api/runs/{run_id}/metrics", { ...path, signal }))) as MetricDoc, [runId]);
  const series = useLoad(
    async (signal) =>
      (await unwrap(
        api.GET("/api/runs/{run_id}/series", { params: { path: { run_id: runId }, query: { max_points: MAX_POINTS } }, signal }),
      )) as unknown as { equity: EquityPoint[]; points_total: number },
    [runId],
  );
  const calendar = useLoad(
    async (signal) => (await unwrap(api.GET("/api/runs/{run_id}/calendar", { ...path, signal }))) as unknown as { days: Day[] },
    [runId],
  );
  const breakdown = useLoad(
    async (signal) =>
      (await unwrap(api.GET("/api/runs/{run_id}/breakdowns", { params: { path: { run_id: runId }, query: { by } }, signal }))) as unknown as { groups: Group[] },
    [runId, by],
  );
  useStream(["ingested"], (message) => {
    if (message.run_id === runId) run.reload(); // new fills: positions now pending
  });
  useStream(["journal_changed"], (message) => {
    if (by === "playbook" && (message.target === "trade" || message.target === "playbook")) breakdown.reload();
  });
  useStream(["position_derived", "metrics_updated"], (message) => {
    if (message.run_id !== runId) return;
    metrics.reload();
    series.reload();
    calendar.reload();
    breakdown.reload();
    run.reload();
  });

  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <Loading />;
  const r = run.data;
  const groupColumns: Column<Group>[] = [
    {
      key: "key",
      header: by,
      render: (g) => (thin(g) ? <span title={thin(g) ?? undefined}>{g.key} <span className="dim">(few trades)</span></span> : g.key),
      className: (g) => (thin(g) ? "thin" : ""),
    },
    ...GROUP_METRICS.map((name) => ({
      key: name,
      header: metricLabel(name, definitions),
      render: (g: Group) => {
        const interval = WITH_INTERVAL.has(name) ? intervalOf(g, name) : undefined;
        const text = metricText(g[name], definitions[name]);
        return interval ? <span title={intervalText(interval, definitions[name])} data-interval={name}>{text}</span> : text;
      },
      align: "right" as const,
      className: (g: Group) => (thin(g) ? "thin" : ""),
    })),
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>
          Run {r.id}: {r.strategy.name} <span className={`badge ${r.mode}`}>{r.mode}</span>
        </h1>
        <div className="filters">
          <a className="button" href={`/api/runs/${r.id}/report?format=csv`} onClick={(e) => download(e, `/api/runs/${r.id}/report?format=csv`, `run-${r.id}-trades.csv`)}>
            Trades CSV
          </a>
        </div>
      </div>
      <p className="dim">
        {r.key} · {r.source} · {r.status} · {dateTime(r.started_ts)} → {dateTime(r.ended_ts)} · {num(r.execution_count, 0)} fills · {num(r.order_count, 0)} orders
      </p>
      <DerivationNote state={r.derivation} />
      <ErrorNote error={metrics.error} />
      <HeadlineCards metrics={metrics.data} definitions={definitions} />
      <section className="panel">
        <EquityCharts points={series.data?.equity ?? []} total={series.data?.points_total} timeZone={timeZone} />
      </section>
      <div className="two-col">
        <section className="panel">
          <h2>Every metric</h2>
          {metrics.data ? <MetricList metrics={metrics.data} definitions={definitions} /> : <Loading />}
        </section>
        <section className="panel">
          <h2>Daily PnL</h2>
          <PnlCalendar days={calendar.data?.days ?? []} />
          <h2>Breakdown</h2>
          <div className="tabs" role="tablist">
            {DIMENSIONS.map((d) => (
              <button key={d} role="tab" aria-selected={by === d} className={by === d ? "active" : ""} onClick={() => setBy(d)}>
                {d}
              </button>
            ))}
          </div>
          <label className="inline">
            Chart{" "}
            <select value={charted} onChange={(e) => setCharted(e.target.value as ChartMetric)} data-testid="breakdown-metric">
              {CHART_METRICS.map((name) => (
                <option key={name} value={name}>
                  {metricLabel(name, definitions)}
                  {WITH_INTERVAL.has(name) ? " (95 % interval)" : ""}
                </option>
              ))}
            </select>
          </label>
          <div data-testid="breakdown-chart">
            <GroupBars
              groups={breakdown.data?.groups ?? []}
              valueKey={charted}
              intervals={WITH_INTERVAL.has(charted)}
              label={`${metricLabel(charted, definitions)}${definitions[charted]?.unit === "currency" ? " (currency)" : ""}`}
              format={(v) => metricText(v, definitions[charted])}
            />
          </div>
          <p className="dim">Bars: 95 % intervals (win rate: Wilson; the others: bootstrap over the trades). Muted: fewer than 30 trades.</p>
          <DataTable columns={groupColumns} rows={breakdown.data?.groups ?? []} rowKey={(g) => g.key} />
        </section>
      </div>
      <section className="panel">
        <h2>Trades</h2>
        <TradeList runId={runId} testId="run-trades" />
      </section>
    </div>
  );
}
