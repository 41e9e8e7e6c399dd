// A browsable list of trades: filters, sort and page in the URL (they survive a reload and
// Back), totals of the whole filtered set from the server, pages of 500 from the server,
// drawn virtualised. The Trades page shows every run's; a run's page shows its own.
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { money, num, percent, pnlClass, zonedInstant } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { useUrlPages } from "../lib/paging";
import { DataTable, Pager, formatSort, parseSort } from "./DataTable";
import { ErrorNote } from "./Layout";
import { journalColumns, tradeColumns } from "./TradeColumns";
import type { ListState } from "../lib/journal";

export const PAGE_SIZE = 500;

const CHOICES = {
  direction: ["long", "short"],
  outcome: ["win", "loss", "breakeven"],
  status: ["open", "closed"],
  trend: ["up", "down", "range"],
  volatility: ["low", "normal", "high"],
} as const;
const MODES = ["live", "paper", "backtest"] as const;
const TEXTS = ["symbol", "tag", "setup"] as const;
/** The journal's filters (issue 18): review state, a mistake (its id), a playbook (its id, or "none"). */
export const REVIEW_CHOICES: [string, string][] = [
  ["", "all"],
  ["new", "not yet reviewed"],
  ["reviewed", "reviewed"],
];
type Choice = keyof typeof CHOICES;
type Totals = Schemas["TradeTotals"];

/** `YYYY-MM-DD` plus one day (a "to" date is inclusive: the filter ends at the next midnight). */
export function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** The API query of the filters in the URL (dates are days in the user's time zone). */
export function tradeQuery(params: URLSearchParams, withRun: boolean): Record<string, string | number | undefined> {
  const query: Record<string, string | number | undefined> = {};
  for (const name of [...Object.keys(CHOICES), ...TEXTS]) query[name] = params.get(name) || undefined;
  const review = params.get("review");
  query.review = review === "new" || review === "reviewed" ? review : undefined;
  const mistake = Number(params.get("mistake"));
  query.mistake = Number.isInteger(mistake) && mistake > 0 ? mistake : undefined;
  const playbook = params.get("playbook");
  const playbookId = Number(playbook);
  query.playbook = playbook === "none" ? "none" : Number.isInteger(playbookId) && playbookId > 0 ? String(playbookId) : undefined;
  if (withRun) {
    query.mode = params.get("mode") || undefined;
    const run = Number(params.get("run"));
    query.run_id = Number.isInteger(run) && run > 0 ? run : undefined;
  }
  const from = params.get("from");
  const to = params.get("to");
  query.start = from ? (zonedInstant(from) ?? undefined) : undefined;
  query.end = to ? (zonedInstant(nextDay(to)) ?? undefined) : undefined;
  return query;
}

export function TradeList({ runId, testId = "trades" }: { runId?: number; testId?: string }) {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const pages = useUrlPages(params, setParams);
  const everyRun = runId === undefined;
  const sort = params.get("sort") ?? "-entry_ts";
  const query = tradeQuery(params, everyRun);
  const key = JSON.stringify(query);

  const trades = useLoad((signal) => {
    const page = { ...query, sort, cursor: pages.cursor ?? undefined, limit: PAGE_SIZE };
    return everyRun
      ? unwrap(api.GET("/api/trades", { params: { query: page as never }, signal }))
      : unwrap(api.GET("/api/runs/{run_id}/trades", { params: { path: { run_id: runId }, query: page as never }, signal }));
  }, [key, sort, pages.cursor, runId]);
  const totals = useLoad(
    (signal) =>
      everyRun
        ? unwrap(api.GET("/api/trades/totals", { params: { query: query as never }, signal }))
        : unwrap(api.GET("/api/runs/{run_id}/trades/totals", { params: { path: { run_id: runId }, query: query as never }, signal })),
    [key, runId],
  );
  const runs = useLoad((signal) => (everyRun ? unwrap(api.GET("/api/runs", { params: { query: { limit: 500 } }, signal })) : Promise.resolve(null)), [everyRun]);
  const playbooks = useLoad((signal) => unwrap(api.GET("/api/playbooks", { signal })), []);
  const mistakes = useLoad((signal) => unwrap(api.GET("/api/mistakes", { signal })), []);
  useStream(["journal_changed"], (message) => {
    if (message.target === "playbook") playbooks.reload();
    if (message.target === "mistake") mistakes.reload();
    if (message.target === "trade" || message.target === "playbook" || message.target === "mistake") {
      trades.reload();
      totals.reload();
    }
  });
  const playbookNames = new Map((playbooks.data ?? []).map((p) => [p.id, p.name]));
  const columns = [...tradeColumns.slice(0, 6), ...journalColumns(playbookNames), ...tradeColumns.slice(6)];
  // New trades show up live on the first page; later pages stay put while you read them.
  useStream(["position_derived", "trade_updated"], (message) => {
    if (!everyRun && message.run_id !== runId) return;
    if (pages.page === 0) trades.reload();
    totals.reload();
  });

  const set = pages.setFilter;
  const choice = (name: string, values: readonly string[], label = name) => (
    <label key={name}>
      {label}
      <select value={params.get(name) ?? ""} onChange={(e) => set(name, e.target.value)} aria-label={label}>
        <option value="">any</option>
        {values.map((value) => (
          <option key={value}>{value}</option>
        ))}
      </select>
    </label>
  );

  return (
    <>
      <div className="filters trade-filters" data-testid={`${testId}-filters`}>
        {everyRun && (
          <label>
            Run
            <select value={params.get("run") ?? ""} onChange={(e) => set("run", e.target.value)} aria-label="Run">
              <option value="">any</option>
              {(runs.data?.items ?? []).map((run) => (
                <option key={run.id} value={run.id}>
                  {run.id}: {run.strategy.name} ({run.mode})
                </option>
              ))}
            </select>
          </label>
        )}
        {everyRun && choice("mode", MODES)}
        <label>
          From
          <input type="date" name="from" value={params.get("from") ?? ""} onChange={(e) => set("from", e.target.value)} />
        </label>
        <label>
          To
          <input type="date" name="to" value={params.get("to") ?? ""} onChange={(e) => set("to", e.target.value)} />
        </label>
        {TEXTS.map((name) => (
          <label key={name}>
            {name}
            <input
              key={params.get(name) ?? ""}
              name={name}
              defaultValue={params.get(name) ?? ""}
              placeholder="any"
              onKeyDown={(e) => e.key === "Enter" && set(name, e.currentTarget.value.trim())}
              onBlur={(e) => e.currentTarget.value.trim() !== (params.get(name) ?? "") && set(name, e.currentTarget.value.trim())}
            />
          </label>
        ))}
        {(Object.keys(CHOICES) as Choice[]).map((name) => choice(name, CHOICES[name]))}
        <label>
          Review
          <select value={params.get("review") ?? ""} onChange={(e) => set("review", e.target.value)} aria-label="Review">
            {REVIEW_CHOICES.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mistake
          <select value={params.get("mistake") ?? ""} onChange={(e) => set("mistake", e.target.value)} aria-label="Mistake">
            <option value="">any</option>
            {(mistakes.data ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Playbook
          <select value={params.get("playbook") ?? ""} onChange={(e) => set("playbook", e.target.value)} aria-label="Playbook">
            <option value="">any</option>
            <option value="none">no playbook</option>
            {(playbooks.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={trades.error ?? totals.error} />
      <TotalsBar totals={totals.data} />
      <DataTable
        testId={testId}
        columns={columns}
        rows={trades.data?.items ?? []}
        rowKey={(t) => t.id}
        onOpen={(t) => navigate(`/trades/${t.id}`, { state: { listQuery: everyRun ? query : { ...query, run_id: runId } } satisfies ListState })}
        sort={parseSort(sort)}
        onSort={(next) => set("sort", formatSort(next))}
        empty={trades.loading ? "Loading…" : "No trades match."}
      />
      <Pager page={pages.page} hasNext={!!trades.data?.next_cursor} onPrevious={pages.previous} onNext={() => pages.next(trades.data?.next_cursor)} />
    </>
  );
}

/** Totals of every trade the filters match, each with its label, unit and what it counts. */
export function TotalsBar({ totals }: { totals: Totals | undefined }) {
  const items: [string, string, string, string, string?][] = totals
    ? [
        ["trades", "Trades", `${num(totals.trade_count, 0)}${totals.open_count ? ` (${num(totals.open_count, 0)} open)` : ""}`, "every trade the filters match, open ones included (count)"],
        ["net_pnl", "Net P&L", money(totals.net_pnl), "sum of the closed trades' P&L after commission ($)", pnlClass(totals.net_pnl)],
        ["win_rate", "Win rate", percent(totals.win_rate), `closed trades with net P&L > 0: ${num(totals.win_count, 0)} of ${num(totals.closed_count, 0)} (%)`],
        ["average_net_pnl", "Average trade", money(totals.average_net_pnl), "net P&L per closed trade, the expectancy ($)", pnlClass(totals.average_net_pnl)],
        ["profit_factor", "Profit factor", num(totals.profit_factor), "winners' P&L over losers' (ratio; — without losers)"],
        ["commission", "Commission", money(totals.commission), "commission paid on the closed trades ($)"],
        ["average_r", "Average R", totals.average_r === null ? "—" : `${num(totals.average_r)}R`, `mean R multiple of the ${num(totals.r_count, 0)} closed trades with a known risk (R)`],
      ]
    : [];
  return (
    <section className="totals" data-testid="trade-totals" aria-label="Totals of the filtered trades">
      {items.map(([key, labelText, value, explanation, tone]) => (
        <div key={key} className="total" title={explanation} data-total={key}>
          <span className="card-label">{labelText}</span>
          <span className={`total-value ${tone ?? ""}`}>{value}</span>
        </div>
      ))}
      <p className="dim totals-note">{totals ? "Totals of every matching trade, not only this page; money and outcomes count closed trades. Hover a total for what it counts." : "Counting…"}</p>
    </section>
  );
}
