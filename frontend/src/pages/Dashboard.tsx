import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { ActivityFeed } from "../components/Activity";
import { PnlCalendar, type Day } from "../components/Calendar";
import { EquityCharts, type EquityPoint } from "../components/Charts";
import { DataTable } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { HeadlineCards, type MetricDoc } from "../components/Metrics";
import { tradeColumns } from "../components/TradeColumns";
import { useAuth } from "../lib/auth";
import { MAX_POINTS } from "../lib/chartTime";
import { money, num } from "../lib/format";
import { useLoad, useLocalStorage, useStream } from "../lib/hooks";
import { useDefinitions } from "../lib/metricUnits";

type Mode = "live" | "paper" | "backtest";
const ALL = "all";

interface Portfolio {
  run_ids: number[];
  runs_by_mode: Record<string, number>;
  initial_capital: number | null;
  metrics: MetricDoc;
  points_total: number;
  equity: EquityPoint[];
  calendar: Day[];
}

const MODE_NAMES: Record<string, string> = { live: "Live", paper: "Paper", backtest: "Backtest" };

/** What the dashboard's numbers add up, in words: never modes summed silently. */
export function modeCaption(mode: string, byMode: Record<string, number>, capital: number | null): string {
  const count = Object.values(byMode).reduce((a, b) => a + b, 0);
  const runs = `${num(count, 0)} run${count === 1 ? "" : "s"}`;
  const funded = capital === null ? "" : `, starting capital ${money(capital, 0)}`;
  if (mode !== ALL) return `${MODE_NAMES[mode] ?? mode} runs only: ${runs}${funded}.`;
  const parts = ["backtest", "paper", "live"].filter((m) => byMode[m]).map((m) => `${num(byMode[m], 0)} ${m}`);
  if (parts.length <= 1) return `All modes: ${runs}${parts.length ? ` (${parts[0]})` : ""}${funded}.`;
  return `Backtest, paper and live money added together: ${parts.join(" + ")} = ${runs}${funded}.`;
}

export default function Dashboard() {
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const timeZone = useAuth().user?.timezone;
  // Live by default (a new key: the old default added every mode together).
  const [mode, setMode] = useLocalStorage("fillbook.dashboard.mode.v2", "live");
  const [strategy, setStrategy] = useLocalStorage("fillbook.dashboard.strategy", "");
  const query = { mode: (mode === ALL ? undefined : mode) as Mode | undefined, strategy: strategy || undefined };

  const portfolio = useLoad(
    async (signal) =>
      (await unwrap(api.GET("/api/portfolio", { params: { query: { ...query, max_points: MAX_POINTS } }, signal }))) as unknown as Portfolio,
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
              <option value="live">live</option>
              <option value="paper">paper</option>
              <option value="backtest">backtest</option>
              <option value={ALL}>all modes, added together</option>
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
      <p className="dim mode-caption" data-testid="mode-caption">
        {portfolio.data ? modeCaption(mode, portfolio.data.runs_by_mode, portfolio.data.initial_capital) : "…"}
        {strategy && ` Strategy ${strategy}.`}
      </p>
      <ErrorNote error={portfolio.error} />
      <HeadlineCards metrics={portfolio.data?.metrics} definitions={definitions} />
      <section className="panel">
        <EquityCharts points={portfolio.data?.equity ?? []} total={portfolio.data?.points_total} timeZone={timeZone} />
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
