import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { ActivityFeed } from "../components/Activity";
import { PnlCalendar, type Day } from "../components/Calendar";
import { EquityCharts, type EquityPoint } from "../components/Charts";
import { DataTable } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { HeadlineCards, type MetricDoc } from "../components/Metrics";
import { tradeColumns } from "../components/TradeColumns";
import { useLoad, useLocalStorage, useStream } from "../lib/hooks";
import { useUnits } from "../lib/metricUnits";

type Mode = "live" | "paper" | "backtest";

interface Portfolio {
  run_ids: number[];
  metrics: MetricDoc;
  equity: EquityPoint[];
  calendar: Day[];
}

export default function Dashboard() {
  const navigate = useNavigate();
  const units = useUnits();
  const [mode, setMode] = useLocalStorage("fillbook.dashboard.mode", "");
  const [strategy, setStrategy] = useLocalStorage("fillbook.dashboard.strategy", "");
  const query = { mode: (mode || undefined) as Mode | undefined, strategy: strategy || undefined };

  const portfolio = useLoad(
    async (signal) => (await unwrap(api.GET("/api/portfolio", { params: { query }, signal }))) as unknown as Portfolio,
    [mode, strategy],
  );
  const recent = useLoad(
    (signal) => unwrap(api.GET("/api/trades", { params: { query: { mode: query.mode, limit: 10, sort: "-entry_ts" } }, signal })),
    [mode],
  );
  const runs = useLoad((signal) => unwrap(api.GET("/api/runs", { params: { query: { limit: 500 } }, signal })), []);
  const strategies = [...new Set((runs.data?.items ?? []).map((r) => r.strategy.name))].sort();

  useStream(["position_derived", "metrics_updated", "run_ended"], () => {
    portfolio.reload();
    recent.reload();
  });
  useStream(["ingested"], () => runs.reload(), 1000);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="filters">
          <label>
            Mode
            <select value={mode} onChange={(e) => setMode(e.target.value)} aria-label="Run mode">
              <option value="">all</option>
              <option value="live">live</option>
              <option value="paper">paper</option>
              <option value="backtest">backtest</option>
            </select>
          </label>
          <label>
            Strategy
            <select value={strategy} onChange={(e) => setStrategy(e.target.value)} aria-label="Strategy">
              <option value="">all</option>
              {strategies.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <ErrorNote error={portfolio.error} />
      <HeadlineCards metrics={portfolio.data?.metrics} units={units} />
      <section className="panel">
        <EquityCharts points={portfolio.data?.equity ?? []} />
      </section>
      <div className="two-col">
        <section className="panel">
          <h2>Daily PnL</h2>
          <PnlCalendar days={portfolio.data?.calendar ?? []} />
          <h2 className="spaced">Live activity</h2>
          <ActivityFeed />
        </section>
        <section className="panel">
          <h2>Recent trades</h2>
          <ErrorNote error={recent.error} />
          <DataTable
            testId="recent-trades"
            columns={tradeColumns.filter((c) => ["id", "entry_ts", "symbol", "direction", "net_pnl"].includes(c.key))}
            rows={recent.data?.items ?? []}
            rowKey={(t) => t.id}
            onOpen={(t) => navigate(`/trades/${t.id}`)}
            empty="No trades yet: push fills with an API key (Settings)."
          />
        </section>
      </div>
    </div>
  );
}
