import { useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { DataTable, Pager, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { dateTime } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { useCursorPages } from "../lib/paging";
import { RunPicker } from "./Executions";

type Rejected = Schemas["RejectedEventRead"];

export default function RejectedEvents() {
  const [runId, setRunId] = useState<number | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const pages = useCursorPages();
  const rejected = useLoad(
    (signal) =>
      unwrap(api.GET("/api/rejected-events", { params: { query: { run_id: runId ?? undefined, cursor: pages.cursor ?? undefined, limit: 100 } }, signal })),
    [runId, pages.cursor],
  );
  useStream(["ingested"], (message) => {
    if (Number(message.rejected) > 0 && pages.page === 0) rejected.reload();
  });

  const columns: Column<Rejected>[] = [
    { key: "received", header: "Received", render: (r) => dateTime(r.received_at) },
    { key: "source", header: "Source", render: (r) => r.source, phoneHide: true },
    { key: "run", header: "Run", render: (r) => r.run_id ?? "—", phoneHide: true },
    { key: "index", header: "Batch #", render: (r) => r.batch_index, align: "right", phoneHide: true },
    { key: "type", header: "Type", render: (r) => r.event_type ?? "—", phoneHide: true },
    { key: "event", header: "Event id", render: (r) => r.event_id ?? "—", phoneHide: true },
    { key: "error", header: "Reason", render: (r) => <span className="neg">{r.error}</span>, wrap: true },
  ];
  const shown = rejected.data?.items.find((r) => r.id === open);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Rejected events</h1>
        <div className="filters">
          <RunPicker value={runId} onChange={(id) => (setRunId(id), pages.reset())} />
        </div>
      </div>
      <p className="dim">Events the ingest API refused, kept with the reason so nothing a client sent is lost. Enter on a row shows the raw event.</p>
      <ErrorNote error={rejected.error} />
      <DataTable testId="rejected" columns={columns} rows={rejected.data?.items ?? []} rowKey={(r) => r.id} onOpen={(r) => setOpen(r.id === open ? null : r.id)} empty="No rejected events." />
      <Pager page={pages.page} hasNext={!!rejected.data?.next_cursor} onPrevious={pages.previous} onNext={() => pages.next(rejected.data?.next_cursor)} />
      {shown && (
        <section className="panel">
          <h2>Raw event</h2>
          <pre className="raw">{shown.raw}</pre>
        </section>
      )}
    </div>
  );
}
