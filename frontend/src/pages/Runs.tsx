import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { DataTable, Pager, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { dateTime, num, pnlClass } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { metricLabel, metricText } from "../lib/metricDisplay";
import { useDefinitions, type Definitions } from "../lib/metricUnits";
import { useCursorPages } from "../lib/paging";

type Run = Schemas["RunRead"];
type Mode = "live" | "paper" | "backtest";

const metric = (run: Run, name: string): number | null => {
  const value = run.metrics?.[name];
  return typeof value === "number" ? value : null;
};

/** A backtest (or paper run) is the reference A, the live run B; otherwise the older run first. */
export function compareOrder(ids: number[], runs: Pick<Run, "id" | "mode">[]): [number, number] {
  const rank = { backtest: 0, paper: 1, live: 2 } as Record<string, number>;
  const mode = (id: number) => rank[runs.find((r) => r.id === id)?.mode ?? ""] ?? 3;
  const [x, y] = ids;
  if (mode(x) !== mode(y)) return mode(x) < mode(y) ? [x, y] : [y, x];
  return x < y ? [x, y] : [y, x];
}

/** The stored metrics shown per run, labelled and formatted from the registry. */
export const RUN_METRICS = ["trade_count", "net_pnl", "win_rate", "profit_factor", "max_drawdown"] as const;

export function metricColumns(definitions: Definitions): Column<Run>[] {
  return RUN_METRICS.map((name) => ({
    key: name,
    header: metricLabel(name, definitions),
    render: (r: Run) => <span data-run-metric={name}>{metricText(metric(r, name), definitions[name])}</span>,
    className: name === "net_pnl" ? (r: Run) => pnlClass(metric(r, name)) : undefined,
    align: "right" as const,
  }));
}

export default function Runs() {
  const navigate = useNavigate();
  const definitions = useDefinitions();
  const [mode, setMode] = useState("");
  const [strategy, setStrategy] = useState("");
  const [selected, setSelected] = useState<number[]>([]);
  const pages = useCursorPages();
  const runs = useLoad(
    (signal) =>
      unwrap(
        api.GET("/api/runs", {
          params: { query: { mode: (mode || undefined) as Mode | undefined, strategy: strategy || undefined, cursor: pages.cursor ?? undefined, limit: 50 } },
          signal,
        }),
      ),
    [mode, strategy, pages.cursor],
  );
  useStream(["ingested", "metrics_updated"], () => runs.reload(), 500);

  const toggle = (id: number) =>
    setSelected((list) => (list.includes(id) ? list.filter((x) => x !== id) : [...list.slice(-1), id]));

  const columns: Column<Run>[] = [
    {
      key: "pick",
      header: "Compare",
      render: (r) => (
        <input
          type="checkbox"
          aria-label={`select run ${r.id} to compare`}
          checked={selected.includes(r.id)}
          onClick={(e) => e.stopPropagation()}
          onChange={() => toggle(r.id)}
        />
      ),
    },
    { key: "id", header: "#", render: (r) => <Link to={`/runs/${r.id}`}>{r.id}</Link> },
    { key: "strategy", header: "Strategy", render: (r) => r.strategy.name + (r.instance ? ` · ${r.instance.name}` : "") },
    { key: "key", header: "Run", render: (r) => r.key },
    { key: "mode", header: "Mode", render: (r) => <span className={`badge ${r.mode}`}>{r.mode}</span> },
    { key: "status", header: "Status", render: (r) => r.status },
    { key: "started", header: "Started", render: (r) => dateTime(r.started_ts) },
    { key: "fills", header: "Fills", render: (r) => num(r.execution_count, 0), align: "right" },
    ...metricColumns(definitions),
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <div className="filters">
          <label>
            Mode
            <select value={mode} onChange={(e) => (setMode(e.target.value), pages.reset())}>
              <option value="">all</option>
              <option>live</option>
              <option>paper</option>
              <option>backtest</option>
            </select>
          </label>
          <label>
            Strategy
            <input value={strategy} placeholder="name" onChange={(e) => (setStrategy(e.target.value), pages.reset())} />
          </label>
          <button
            className="primary"
            disabled={selected.length !== 2}
            onClick={() => {
              const [a, b] = compareOrder(selected, runs.data?.items ?? []);
              navigate(`/compare?a=${a}&b=${b}`);
            }}
            title="Tick two runs (e.g. a backtest and its live run)"
          >
            Compare {selected.length}/2
          </button>
        </div>
      </div>
      <ErrorNote error={runs.error} />
      <DataTable testId="runs" columns={columns} rows={runs.data?.items ?? []} rowKey={(r) => r.id} onOpen={(r) => navigate(`/runs/${r.id}`)} empty="No runs yet." />
      <Pager page={pages.page} hasNext={!!runs.data?.next_cursor} onPrevious={pages.previous} onNext={() => pages.next(runs.data?.next_cursor)} />
      <p className="dim">Metrics of a run appear when it ends (run_end) and are kept up to date after that.</p>
    </div>
  );
}
