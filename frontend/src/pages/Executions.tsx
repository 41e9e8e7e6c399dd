import { useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { DataTable, Pager, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { dateTime, money, num } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { useCursorPages } from "../lib/paging";

type Execution = Schemas["ExecutionRead"];

/** A `datetime-local` value read as UTC, in the API's ISO-8601 form (undefined when empty). */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return `${withSeconds}Z`;
}

export function RunPicker({ value, onChange }: { value: number | null; onChange: (id: number | null) => void }) {
  const runs = useLoad((signal) => unwrap(api.GET("/api/runs", { params: { query: { limit: 500 } }, signal })), []);
  useStream(["ingested"], () => runs.reload(), 2000);
  const items = runs.data?.items ?? [];
  return (
    <label>
      Run
      <select value={value ?? ""} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)} aria-label="Run">
        <option value="">choose…</option>
        {items.map((r) => (
          <option key={r.id} value={r.id}>
            #{r.id} {r.strategy.name} · {r.key} ({r.mode})
          </option>
        ))}
      </select>
    </label>
  );
}

export default function Executions() {
  const [runId, setRunId] = useState<number | null>(null);
  const [symbol, setSymbol] = useState("");
  const [side, setSide] = useState("");
  const [includeRemoved, setIncludeRemoved] = useState(false);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const pages = useCursorPages();
  const runs = useLoad((signal) => unwrap(api.GET("/api/runs", { params: { query: { limit: 1 } }, signal })), []);
  const chosen = runId ?? runs.data?.items[0]?.id ?? null;

  const executions = useLoad(
    async (signal) =>
      chosen === null
        ? undefined
        : unwrap(
            api.GET("/api/runs/{run_id}/executions", {
              params: {
                path: { run_id: chosen },
                query: {
                  symbol: symbol || undefined,
                  side: (side || undefined) as "buy" | "sell" | undefined,
                  include_removed: includeRemoved,
                  start: localToIso(from),
                  end: localToIso(to),
                  cursor: pages.cursor ?? undefined,
                  limit: 100,
                },
              },
              signal,
            }),
          ),
    [chosen, symbol, side, includeRemoved, from, to, pages.cursor],
  );
  useStream(["ingested"], (message) => {
    if (message.run_id === chosen && pages.page === 0) executions.reload();
  });

  const columns: Column<Execution>[] = [
    { key: "seq", header: "Seq", render: (e) => e.seq },
    { key: "ts", header: "Time", render: (e) => dateTime(e.ts) },
    { key: "symbol", header: "Symbol", render: (e) => e.symbol },
    { key: "side", header: "Side", render: (e) => e.side },
    { key: "qty", header: "Qty", render: (e) => num(e.qty), align: "right" },
    { key: "price", header: "Price", render: (e) => num(e.price, 4), align: "right" },
    { key: "commission", header: "Commission", render: (e) => money(e.commission), align: "right" },
    { key: "order", header: "Order", render: (e) => e.order_id ?? "—" },
    { key: "account", header: "Account", render: (e) => e.account || "—" },
    { key: "id", header: "Id", render: (e) => e.id + (e.removed ? " (removed)" : e.amended_at ? " (amended)" : "") },
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>Executions</h1>
        <div className="filters">
          <RunPicker value={chosen} onChange={(id) => (setRunId(id), pages.reset())} />
          <label>
            Symbol
            <input value={symbol} onChange={(e) => (setSymbol(e.target.value), pages.reset())} placeholder="any" />
          </label>
          <label>
            Side
            <select value={side} onChange={(e) => (setSide(e.target.value), pages.reset())}>
              <option value="">any</option>
              <option>buy</option>
              <option>sell</option>
            </select>
          </label>
          <label>
            From (UTC)
            <input type="datetime-local" step={1} value={from} onChange={(e) => (setFrom(e.target.value), pages.reset())} />
          </label>
          <label>
            To (UTC)
            <input type="datetime-local" step={1} value={to} onChange={(e) => (setTo(e.target.value), pages.reset())} />
          </label>
          <label className="check">
            <input type="checkbox" checked={includeRemoved} onChange={(e) => (setIncludeRemoved(e.target.checked), pages.reset())} />
            removed too
          </label>
        </div>
      </div>
      <ErrorNote error={executions.error} />
      <DataTable testId="executions" columns={columns} rows={executions.data?.items ?? []} rowKey={(e) => `${e.source}-${e.id}-${e.seq}`} empty={chosen === null ? "No runs yet." : "No fills match."} />
      <Pager page={pages.page} hasNext={!!executions.data?.next_cursor} onPrevious={pages.previous} onNext={() => pages.next(executions.data?.next_cursor)} />
    </div>
  );
}
