// Every trade across runs: sorting, filters and paging all happen on the server
// (cursor pages of 100), so the page stays fast however many trades there are.
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { DataTable, Pager, formatSort, parseSort } from "../components/DataTable";
import { DerivationNote } from "../components/DerivationNote";
import { ErrorNote } from "../components/Layout";
import { tradeColumns } from "../components/TradeColumns";
import { useLoad, useStream } from "../lib/hooks";
import { useCursorPages } from "../lib/paging";

const FILTERS = {
  mode: ["live", "paper", "backtest"],
  direction: ["long", "short"],
  outcome: ["win", "loss", "breakeven"],
  status: ["open", "closed"],
  trend: ["up", "down", "range"],
  volatility: ["low", "normal", "high"],
} as const;
type FilterName = keyof typeof FILTERS;

export default function Trades() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const pages = useCursorPages();
  const sort = params.get("sort") ?? "-entry_ts";
  const symbol = params.get("symbol") ?? "";
  const filters = Object.fromEntries(Object.keys(FILTERS).map((name) => [name, params.get(name) || undefined])) as Record<FilterName, string | undefined>;

  const update = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    pages.reset();
  };

  const trades = useLoad(
    (signal) =>
      unwrap(
        api.GET("/api/trades", {
          params: {
            query: {
              ...(filters as Record<string, never>),
              symbol: symbol || undefined,
              sort,
              cursor: pages.cursor ?? undefined,
              limit: 100,
            },
          },
          signal,
        }),
      ),
    [params.toString(), pages.cursor],
  );
  const derivation = useLoad((signal) => unwrap(api.GET("/api/derivation", { signal })), []);
  // New trades show up live on the first page; later pages stay put while you read them.
  useStream(["position_derived"], () => {
    if (pages.page === 0) trades.reload();
    derivation.reload();
  });
  useStream(["ingested"], () => derivation.reload(), 1000);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Trades</h1>
        <div className="filters">
          <label>
            Symbol
            <input defaultValue={symbol} placeholder="any" onKeyDown={(e) => e.key === "Enter" && update("symbol", e.currentTarget.value)} onBlur={(e) => update("symbol", e.currentTarget.value)} />
          </label>
          {(Object.keys(FILTERS) as FilterName[]).map((name) => (
            <label key={name}>
              {name}
              <select value={filters[name] ?? ""} onChange={(e) => update(name, e.target.value)} aria-label={name}>
                <option value="">any</option>
                {FILTERS[name].map((value) => (
                  <option key={value}>{value}</option>
                ))}
              </select>
            </label>
          ))}
        </div>
      </div>
      <ErrorNote error={trades.error} />
      <DerivationNote state={derivation.data} showRun />
      <DataTable
        testId="trades"
        columns={tradeColumns}
        rows={trades.data?.items ?? []}
        rowKey={(t) => t.id}
        onOpen={(t) => navigate(`/trades/${t.id}`)}
        sort={parseSort(sort)}
        onSort={(next) => update("sort", formatSort(next))}
        empty={trades.loading ? "Loading…" : "No trades match."}
      />
      <Pager page={pages.page} hasNext={!!trades.data?.next_cursor} onPrevious={pages.previous} onNext={() => pages.next(trades.data?.next_cursor)} />
    </div>
  );
}
