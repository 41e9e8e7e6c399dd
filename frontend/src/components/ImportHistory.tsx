// The user's imports, newest first: state, format, counts and when; live while one runs.
import { Link } from "react-router-dom";
import { DataTable, type Column } from "./DataTable";
import { ErrorNote } from "./Layout";
import { dateTime, num } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { api, unwrap } from "../api/client";
import { bytes, type ImportStatus } from "../lib/imports";

export function ImportHistory({ tick }: { tick: number }) {
  const list = useLoad((signal) => unwrap(api.GET("/api/imports", { signal })), [tick]);
  useStream(["import_finished"], () => list.reload(), 500);
  const count = (i: ImportStatus, value: number | undefined) => (i.summary && value !== undefined ? num(value, 0) : "—");
  const columns: Column<ImportStatus>[] = [
    { key: "id", header: "#", render: (i) => i.id, align: "right" },
    { key: "when", header: "Uploaded", render: (i) => dateTime(i.created_at) },
    { key: "file", header: "File", render: (i) => i.filename, wrap: true },
    { key: "size", header: "Size", render: (i) => bytes(i.size_bytes), align: "right", phoneHide: true },
    { key: "format", header: "Format", render: (i) => i.format_label, phoneHide: true },
    {
      key: "state",
      header: "State",
      render: (i) => (
        <span className={`status ${i.state}`} data-status={i.state} title={i.error ?? undefined}>
          {i.state}
        </span>
      ),
    },
    { key: "stored", header: "Fills stored", render: (i) => count(i, i.summary?.stored), align: "right" },
    { key: "duplicates", header: "Duplicates (fills)", render: (i) => count(i, i.summary?.duplicates), align: "right", phoneHide: true },
    { key: "refused", header: "Refused (rows)", render: (i) => count(i, i.summary?.refused_total), align: "right", phoneHide: true },
    { key: "trades", header: "Trades rebuilt", render: (i) => count(i, i.summary?.trades_rebuilt), align: "right", phoneHide: true },
    { key: "run", header: "Run", render: (i) => (i.run_id ? <Link to={`/runs/${i.run_id}`}>#{i.run_id}</Link> : "—") },
  ];
  return (
    <section className="panel">
      <h2>Import history</h2>
      <ErrorNote error={list.error} />
      <DataTable testId="import-history" columns={columns} rows={list.data ?? []} rowKey={(i) => i.id} empty="No imports yet." />
    </section>
  );
}
