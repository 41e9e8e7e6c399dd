// The user's imports, newest first: state, format, counts and when; live while one runs.
import { Link } from "react-router-dom";
import { DataTable, type Column } from "./DataTable";
import { ErrorNote } from "./Layout";
import { dateTime, num } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { importsCall, type ImportRead } from "../lib/imports";

export function ImportHistory({ tick }: { tick: number }) {
  const list = useLoad((signal) => importsCall<ImportRead[]>("GET", "/api/imports", undefined, signal), [tick]);
  useStream(["import_finished"], () => list.reload(), 500);
  const columns: Column<ImportRead>[] = [
    { key: "id", header: "#", render: (i) => i.id, align: "right" },
    { key: "when", header: "When", render: (i) => dateTime(i.created_at) },
    { key: "file", header: "File", render: (i) => i.filename, wrap: true },
    { key: "format", header: "Format", render: (i) => i.format_label, phoneHide: true },
    { key: "state", header: "State", render: (i) => <span className={`status ${i.state}`} data-status={i.state}>{i.state}</span> },
    { key: "fills", header: "Fills in file", render: (i) => num(i.fills_total, 0), align: "right" },
    { key: "stored", header: "Stored", render: (i) => (i.summary ? num(i.summary.stored, 0) : "—"), align: "right" },
    { key: "duplicates", header: "Duplicates", render: (i) => num(i.summary ? i.summary.duplicates : i.duplicates_total, 0), align: "right", phoneHide: true },
    { key: "refused", header: "Refused", render: (i) => (i.summary ? num(i.summary.refused_total, 0) : "—"), align: "right", phoneHide: true },
    { key: "run", header: "Run", render: (i) => (i.summary ? <Link to={`/runs/${i.summary.run_id}`}>{i.summary.run_id}</Link> : "—") },
  ];
  return (
    <section className="panel">
      <h2>Import history</h2>
      <ErrorNote error={list.error} />
      <DataTable testId="import-history" columns={columns} rows={list.data ?? []} rowKey={(i) => i.id} empty="No imports yet." />
    </section>
  );
}
