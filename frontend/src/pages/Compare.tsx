import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { EquityOverlay, type EquityPoint } from "../components/Charts";
import { DataTable, Pager, type Column } from "../components/DataTable";
import { ErrorNote, Loading } from "../components/Layout";
import { useAuth } from "../lib/auth";
import { MAX_POINTS } from "../lib/chartTime";
import { dateTime, money, num, pnlClass } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { deltaText, metricHint, metricLabel, metricText } from "../lib/metricDisplay";
import { useDefinitions, type Definitions } from "../lib/metricUnits";

/** Trade rows per page of each list (the API pages them: a big run is never sent whole). */
export const PAGE_SIZE = 100;

interface SideTrade {
  id: number;
  symbol: string;
  direction: string;
  entry_ts: string;
  exit_ts: string | null;
  entry_price: number;
  exit_price: number | null;
  net_pnl: number;
}

interface Match {
  a: SideTrade;
  b: SideTrade;
  entry_delay_s: number;
  entry_slippage: number;
  exit_slippage: number | null;
  pnl_difference: number;
}

interface Comparison {
  a: number;
  b: number;
  counts: { matched: number; only_a: number; only_b: number };
  matched: Match[];
  only_a: SideTrade[];
  only_b: SideTrade[];
  summary: { matched: number; mean_entry_slippage: number | null; mean_exit_slippage: number | null; pnl_difference: number };
  metrics: { a: Record<string, unknown>; b: Record<string, unknown>; delta: Record<string, number> };
}

type Metrics = Record<string, unknown> & { undefined?: Record<string, string> };

/** Every metric of both runs: A, B and B − A, labelled from the registry. */
export function MetricComparison({ a, b, metrics, definitions }: { a: number; b: number; metrics: { a: Metrics; b: Metrics }; definitions: Definitions }) {
  const names = Object.keys(definitions).filter((name) => name in metrics.a || name in metrics.b);
  return (
    <div className="table-wrap">
      <table className="compare-table" data-testid="compare-metrics">
        <thead>
          <tr>
            <th>Metric</th>
            <th>Run {a} (A)</th>
            <th>Run {b} (B)</th>
            <th>B − A</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const definition = definitions[name];
            const [x, y] = [metrics.a[name], metrics.b[name]];
            return (
              <tr key={name} data-compare-metric={name}>
                <th scope="row" title={metricHint(definition, undefined)} data-testid="metric-label">
                  {metricLabel(name, definitions)}
                </th>
                <td title={metrics.a.undefined?.[name]}>{metricText(x, definition)}</td>
                <td title={metrics.b.undefined?.[name]}>{metricText(y, definition)}</td>
                <td>{deltaText(x, y, definition)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export default function Compare() {
  const [params, setParams] = useSearchParams();
  const a = Number(params.get("a"));
  const b = Number(params.get("b"));
  const tolerance = Number(params.get("tolerance") ?? 60);
  const [page, setPage] = useState(0);
  const definitions = useDefinitions();
  const timeZone = useAuth().user?.timezone;
  const comparison = useLoad(
    async (signal) =>
      (await unwrap(
        api.GET("/api/compare", { params: { query: { a, b, tolerance_s: tolerance, offset: page * PAGE_SIZE, limit: PAGE_SIZE } }, signal }),
      )) as unknown as Comparison,
    [a, b, tolerance, page],
  );
  const curves = useLoad(
    (signal) =>
      Promise.all(
        [a, b].map(
          async (run_id) =>
            (await unwrap(api.GET("/api/runs/{run_id}/series", { params: { path: { run_id }, query: { max_points: MAX_POINTS } }, signal })))
              .equity as unknown as EquityPoint[],
        ),
      ),
    [a, b],
  );
  // Either run's trades may still be rebuilding when the page opens: follow them.
  useStream(["position_derived", "metrics_updated"], (message) => {
    if (message.run_id === a || message.run_id === b) {
      comparison.reload();
      curves.reload();
    }
  });
  const runA = useLoad((signal) => unwrap(api.GET("/api/runs/{run_id}", { params: { path: { run_id: a } }, signal })), [a]);
  const runB = useLoad((signal) => unwrap(api.GET("/api/runs/{run_id}", { params: { path: { run_id: b } }, signal })), [b]);
  if (!a || !b) return <p>Pick two runs on the Runs page to compare them.</p>;
  const c = comparison.data;

  const columns: Column<Match>[] = [
    { key: "a", header: `Run ${a} trade`, render: (m) => <Link to={`/trades/${m.a.id}`}>{m.a.id}</Link> },
    { key: "b", header: `Run ${b} trade`, render: (m) => <Link to={`/trades/${m.b.id}`}>{m.b.id}</Link> },
    { key: "symbol", header: "Symbol", render: (m) => `${m.a.symbol} ${m.a.direction}` },
    { key: "entry", header: "Entry A", render: (m) => dateTime(m.a.entry_ts) },
    { key: "delay", header: "Delay", render: (m) => `${num(m.entry_delay_s)}s`, align: "right" },
    { key: "es", header: "Entry slip", render: (m) => num(m.entry_slippage, 4), className: (m) => pnlClass(-m.entry_slippage), align: "right" },
    { key: "xs", header: "Exit slip", render: (m) => num(m.exit_slippage, 4), className: (m) => pnlClass(m.exit_slippage === null ? 0 : -m.exit_slippage), align: "right" },
    { key: "pa", header: "PnL A", render: (m) => money(m.a.net_pnl), align: "right" },
    { key: "pb", header: "PnL B", render: (m) => money(m.b.net_pnl), align: "right" },
    { key: "diff", header: "B − A", render: (m) => money(m.pnl_difference), className: (m) => pnlClass(m.pnl_difference), align: "right" },
  ];
  const unmatched: Column<SideTrade>[] = [
    { key: "id", header: "Trade", render: (t) => <Link to={`/trades/${t.id}`}>{t.id}</Link> },
    { key: "entry", header: "Entry", render: (t) => dateTime(t.entry_ts) },
    { key: "sym", header: "Symbol", render: (t) => `${t.symbol} ${t.direction}` },
    { key: "pnl", header: "Net PnL", render: (t) => money(t.net_pnl), align: "right" },
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>
          Compare run <Link to={`/runs/${a}`}>{a}</Link> {runA.data && `(${runA.data.mode})`} with run <Link to={`/runs/${b}`}>{b}</Link>{" "}
          {runB.data && `(${runB.data.mode})`}
        </h1>
        <label className="filters">
          Match tolerance (s)
          <input
            type="number"
            min={1}
            max={86400}
            value={tolerance}
            onChange={(e) => (setParams({ a: String(a), b: String(b), tolerance: e.target.value }), setPage(0))}
          />
        </label>
      </div>
      <ErrorNote error={comparison.error} />
      {!c ? (
        <Loading />
      ) : (
        <>
          <div className="cards">
            <div className="card">
              <div className="card-label">Matched trades</div>
              <div className="card-value">{c.summary.matched}</div>
            </div>
            <div className="card">
              <div className="card-label">Mean entry slippage (B vs A, price)</div>
              <div className="card-value" data-testid="mean-entry-slippage">{num(c.summary.mean_entry_slippage, 4)}</div>
            </div>
            <div className="card">
              <div className="card-label">Mean exit slippage (B vs A, price)</div>
              <div className="card-value" data-testid="mean-exit-slippage">{num(c.summary.mean_exit_slippage, 4)}</div>
            </div>
            <div className="card">
              <div className="card-label">PnL difference (B − A)</div>
              <div className={`card-value ${pnlClass(c.summary.pnl_difference)}`}>{money(c.summary.pnl_difference)}</div>
            </div>
          </div>
          <section className="panel">
            <h2>Equity of both runs</h2>
            <ErrorNote error={curves.error} />
            <EquityOverlay
              timeZone={timeZone}
              runs={[
                { name: `Run ${a} (A${runA.data ? `, ${runA.data.mode}` : ""})`, color: "var(--accent)", points: curves.data?.[0] ?? [] },
                { name: `Run ${b} (B${runB.data ? `, ${runB.data.mode}` : ""})`, color: "#f59e0b", points: curves.data?.[1] ?? [] },
              ]}
            />
          </section>
          {c.metrics && (
            <section className="panel">
              <h2>Metrics of both runs</h2>
              <MetricComparison a={a} b={b} metrics={c.metrics} definitions={definitions} />
            </section>
          )}
          <section className="panel">
            <h2>Matched trades ({num(c.counts.matched, 0)})</h2>
            <DataTable testId="matched" columns={columns} rows={c.matched} rowKey={(m) => `${m.a.id}-${m.b.id}`} />
          </section>
          <div className="two-col">
            <section className="panel">
              <h2>
                Only in run {a} ({num(c.counts.only_a, 0)})
              </h2>
              <DataTable testId="only-a" columns={unmatched} rows={c.only_a} rowKey={(t) => t.id} />
            </section>
            <section className="panel">
              <h2>
                Only in run {b} ({num(c.counts.only_b, 0)})
              </h2>
              <DataTable testId="only-b" columns={unmatched} rows={c.only_b} rowKey={(t) => t.id} />
            </section>
          </div>
          <Pager
            page={page}
            hasNext={(page + 1) * PAGE_SIZE < Math.max(c.counts.matched, c.counts.only_a, c.counts.only_b)}
            onPrevious={() => setPage((p) => Math.max(0, p - 1))}
            onNext={() => setPage((p) => p + 1)}
          />
        </>
      )}
    </div>
  );
}
