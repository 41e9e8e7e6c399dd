// Import: a broker's or platform's export in, through a preview. Drop (or pick) the file;
// it is uploaded with a progress bar and staged; the server detects the format (the user
// can change it) and shows the fills as they will be stored, the instruments, skipped
// rows and duplicates; the generic CSV gets a column picker. Confirming into a run shows
// progress live (stream events, with polling as fallback) and a summary at the end.
import { useEffect, useRef, useState, type DragEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { ImportMapper } from "../components/ImportMapper";
import { ErrorNote } from "../components/Layout";
import { ImportHistory } from "../components/ImportHistory";
import { dateTime, num, timeZone } from "../lib/format";
import { useLoad, useStream, useStreamState } from "../lib/hooks";
import {
  applyEvent,
  bytes,
  fraction,
  previewSentence,
  progressText,
  summaryLines,
  summarySentence,
  uploadImport,
  uploadText,
  utcText,
  type ImportEvent,
  type ImportFill,
  type ImportInstrument,
  type ImportPreview,
  type ImportStatus,
} from "../lib/imports";

type Mode = "live" | "paper" | "backtest";
const POLL_MS = 1000;

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export function Bar({ value, label, testId }: { value: number; label: string; testId: string }) {
  const percent = Math.round(value * 100);
  return (
    <span className="progress wide" role="progressbar" aria-label={label} aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100} data-testid={testId}>
      <span style={{ width: `${percent}%` }} />
    </span>
  );
}

export default function Import() {
  const formats = useLoad((signal) => unwrap(api.GET("/api/imports/formats", { signal })), []);
  const [format, setFormat] = useState("");
  const [tz, setTz] = useState("");
  const [sent, setSent] = useState<{ loaded: number; total: number } | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [status, setStatus] = useState<ImportStatus | null>(null);
  const [error, setError] = useState<Error>();
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [historyTick, setHistoryTick] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const formatNotes = formats.data?.find((f) => f.id === format)?.notes;

  const upload = async (chosen: File, formatId: string) => {
    setError(undefined);
    setStatus(null);
    setSent({ loaded: 0, total: chosen.size });
    try {
      if (preview && preview.state === "staged") await unwrap(api.DELETE("/api/imports/{import_id}", { params: { path: { import_id: preview.id } } })).catch(() => undefined);
      setPreview(null);
      const next = await uploadImport(chosen, { format: formatId || undefined, tz: tz.trim() || undefined, onProgress: (loaded, total) => setSent({ loaded, total }) });
      setPreview(next);
      setFormat(next.format);
      if (next.tz) setTz(next.tz);
    } catch (e) {
      setError(toError(e));
    } finally {
      setSent(null);
      setHistoryTick((t) => t + 1);
    }
  };

  // A staged file read again with another format or zone (PATCH): no new upload.
  const reparse = async (change: { format?: string; tz?: string }) => {
    if (!preview) return;
    setError(undefined);
    setBusy(true);
    try {
      const next = await unwrap(api.PATCH("/api/imports/{import_id}", { params: { path: { import_id: preview.id } }, body: change }));
      setPreview(next);
    } catch (e) {
      setError(toError(e));
    } finally {
      setBusy(false);
    }
  };

  const chooseFormat = (id: string) => {
    setFormat(id);
    if (preview && id) void reparse({ format: id });
  };

  const take = (files: FileList | null | undefined) => {
    const chosen = files?.[0];
    if (!chosen) return;
    void upload(chosen, format);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    take(event.dataTransfer.files);
  };

  const discard = async () => {
    if (preview) await unwrap(api.DELETE("/api/imports/{import_id}", { params: { path: { import_id: preview.id } } })).catch((e: unknown) => setError(toError(e)));
    reset();
  };

  const reset = () => {
    setPreview(null);
    setStatus(null);
    setFormat("");
    setError(undefined);
    setHistoryTick((t) => t + 1);
  };

  return (
    <div className="page import-page">
      <h1>Import</h1>
      {!status && (
        <section className="panel">
          <h2>A broker statement or platform export</h2>
          <div className="row">
            <label>
              Format
              <select name="format" value={format} onChange={(e) => chooseFormat(e.target.value)} disabled={!!sent || busy}>
                {!preview && <option value="">Detect from the file</option>}
                {formats.data?.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label}
                    {preview?.detected && preview.format === f.id ? " (detected)" : ""}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Time zone of the file's times <span className="dim">(optional)</span>
              <input name="tz" value={tz} onChange={(e) => setTz(e.target.value)} placeholder="the format's own" aria-invalid={preview?.needs_tz} />
              <span className="hint">IANA name, e.g. America/New_York, for exports that write local times</span>
            </label>
            {preview && (
              <button type="button" disabled={busy || !tz.trim() || tz.trim() === preview.tz} onClick={() => void reparse({ tz: tz.trim() })}>
                Read the times in this zone
              </button>
            )}
          </div>
          {preview?.needs_tz && (
            <p className="warning" data-testid="needs-tz">
              {preview.format_label} writes local times without a zone: say which zone the file was written in (your account's is {timeZone()}), then read it again.
            </p>
          )}
          {formatNotes && <p className="dim">{formatNotes}</p>}
          <div
            className={over ? "drop-zone import-drop over" : "drop-zone import-drop"}
            data-testid="import-drop"
            onDragOver={(event) => {
              event.preventDefault();
              setOver(true);
            }}
            onDragLeave={() => setOver(false)}
            onDrop={onDrop}
          >
            <span className="dim">Drop the file here or</span>
            <button type="button" onClick={() => input.current?.click()} disabled={!!sent}>
              Choose a file…
            </button>
            <input
              ref={input}
              type="file"
              hidden
              data-testid="import-input"
              accept=".csv,.txt,.xml,.tsv,.xlsx,.htm,.html"
              onChange={(event) => {
                take(event.currentTarget.files);
                event.currentTarget.value = "";
              }}
            />
          </div>
          {formats.data && (
            <p className="dim import-formats">Formats read: {formats.data.map((f) => f.label).join(", ")}.</p>
          )}
          {sent && (
            <div className="row" aria-live="polite" data-testid="upload-progress">
              <Bar value={fraction(sent.loaded, sent.total)} label="Upload" testId="upload-bar" />
              <span>{uploadText(sent.loaded, sent.total)}</span>
            </div>
          )}
          <ErrorNote error={error ?? formats.error} />
        </section>
      )}
      {preview && !status && (
        <PreviewPanels preview={preview} onPreview={setPreview} onConfirmed={setStatus} onDiscard={() => void discard()} />
      )}
      {status && <Progress status={status} onStatus={setStatus} onAnother={reset} />}
      <ImportHistory tick={historyTick} />
    </div>
  );
}

function PreviewPanels({ preview, onPreview, onConfirmed, onDiscard }: { preview: ImportPreview; onPreview: (p: ImportPreview) => void; onConfirmed: (s: ImportStatus) => void; onDiscard: () => void }) {
  const zone = timeZone();
  const showMapper = preview.needs_mapping || preview.mapping !== null;
  const fillColumns: Column<ImportFill>[] = [
    { key: "row", header: "Row", render: (f) => f.row, align: "right" },
    { key: "utc", header: "Time (UTC)", render: (f) => utcText(f.time) },
    { key: "local", header: `Time (${zone})`, render: (f) => dateTime(f.time), phoneHide: true },
    { key: "symbol", header: "Symbol", render: (f) => f.symbol },
    { key: "side", header: "Side", render: (f) => f.side },
    { key: "qty", header: "Qty (contracts/shares)", render: (f) => num(f.qty, 8), align: "right" },
    { key: "price", header: "Price", render: (f) => num(f.price, 10), align: "right" },
    { key: "commission", header: "Commission (account currency)", render: (f) => num(f.commission, 4), align: "right" },
    { key: "execution_id", header: "Execution id", render: (f) => <code>{f.execution_id}</code>, phoneHide: true },
    { key: "account", header: "Account", render: (f) => f.account || "—", phoneHide: true },
  ];
  const instrumentColumns: Column<ImportInstrument>[] = [
    { key: "symbol", header: "Symbol", render: (i) => i.symbol },
    { key: "action", header: "Action", render: (i) => <span data-action={i.action}>{ACTIONS[i.action]}</span> },
    { key: "multiplier", header: "Multiplier (currency per point)", render: (i) => num(i.multiplier, 6), align: "right" },
    { key: "tick", header: "Tick size (points)", render: (i) => num(i.tick_size, 8), align: "right" },
    { key: "currency", header: "Currency", render: (i) => i.currency ?? "—" },
    { key: "warning", header: "Warning", render: (i) => (i.warning ? <span className="neg">{i.warning}</span> : ""), wrap: true },
  ];
  return (
    <>
      <section className="panel" data-testid="import-preview">
        <h2>Preview</h2>
        <dl className="metric-list import-facts">
          <div>
            <dt>File</dt>
            <dd data-testid="preview-file">{preview.filename}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{bytes(preview.size_bytes)}</dd>
          </div>
          <div>
            <dt>Format</dt>
            <dd data-testid="preview-format">
              {preview.format_label} {preview.detected ? <span className="dim">(detected)</span> : <span className="dim">(chosen)</span>}
            </dd>
          </div>
          <div>
            <dt>Rows read</dt>
            <dd data-testid="preview-rows">{num(preview.rows_total, 0)}</dd>
          </div>
          <div>
            <dt>New fills</dt>
            <dd data-testid="preview-fills-total">{num(preview.fills_total, 0)}</dd>
          </div>
          <div>
            <dt>Duplicates of stored fills</dt>
            <dd data-testid="preview-duplicates-total">{num(preview.duplicates_total, 0)}</dd>
          </div>
          <div>
            <dt>Rows skipped</dt>
            <dd data-testid="preview-skipped-total">{num(preview.skipped_total, 0)}</dd>
          </div>
        </dl>
        <p data-testid="preview-sentence">{previewSentence(preview)}</p>
        {preview.warnings.length > 0 && (
          <div className="warning" data-testid="preview-warnings">
            {preview.warnings.map((w) => (
              <p key={w}>{w}</p>
            ))}
          </div>
        )}
      </section>
      {showMapper && <ImportMapper key={preview.id} preview={preview} zone={zone} onPreview={onPreview} />}
      <section className="panel">
        <h2>
          Fills as they will be stored{" "}
          <span className="dim">
            (first {num(preview.fills.length, 0)} of {num(preview.fills_total, 0)} new)
          </span>
        </h2>
        <DataTable testId="preview-fills" columns={fillColumns} rows={preview.fills} rowKey={(f) => `${f.row}:${f.execution_id}`} empty={preview.needs_mapping ? "Choose the columns above to see the fills." : "No fills in this file."} />
      </section>
      <section className="panel">
        <h2>Instruments</h2>
        <DataTable testId="preview-instruments" columns={instrumentColumns} rows={preview.instruments} rowKey={(i) => i.symbol} empty="No instruments to create or update." />
      </section>
      <div className="two-col import-lists">
        <section className="panel">
          <h2>
            Skipped rows <span className="dim">({num(preview.skipped_total, 0)})</span>
          </h2>
          <RowList testId="preview-skipped" items={preview.skipped.map((s) => [s.row, s.reason])} total={preview.skipped_total} empty="No rows skipped." />
        </section>
        <section className="panel">
          <h2>
            Duplicates of stored fills <span className="dim">({num(preview.duplicates_total, 0)})</span>
          </h2>
          <RowList testId="preview-duplicates" items={preview.duplicates.map((d) => [d.row, `execution ${d.execution_id} is already stored`])} total={preview.duplicates_total} empty="None: every fill is new." />
        </section>
      </div>
      <ConfirmForm preview={preview} onConfirmed={onConfirmed} onDiscard={onDiscard} />
    </>
  );
}

const ACTIONS: Record<ImportInstrument["action"], string> = { create: "created", update: "updated", unchanged: "unchanged" };

function RowList({ items, total, empty, testId }: { items: [number, string][]; total: number; empty: string; testId: string }) {
  if (items.length === 0) return <p className="dim">{empty}</p>;
  return (
    <>
      <ul className="activity" data-testid={testId}>
        {items.map(([row, text]) => (
          <li key={`${row}:${text}`}>
            Row {row}: {text}
          </li>
        ))}
      </ul>
      {total > items.length && <p className="dim">… and {num(total - items.length, 0)} more.</p>}
    </>
  );
}

function ConfirmForm({ preview, onConfirmed, onDiscard }: { preview: ImportPreview; onConfirmed: (s: ImportStatus) => void; onDiscard: () => void }) {
  const runs = useLoad((signal) => unwrap(api.GET("/api/runs", { params: { query: { limit: 100 } }, signal })), []);
  const [target, setTarget] = useState<"new" | "existing">("new");
  const [runId, setRunId] = useState("");
  const [name, setName] = useState(() => `import ${preview.filename.replace(/\.[^.]+$/, "")}`);
  const [mode, setMode] = useState<Mode>("live");
  const [account, setAccount] = useState("");
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const accounts = [...new Set(preview.fills.map((f) => f.account).filter((a): a is string => !!a))];
  const problem = preview.needs_mapping
    ? "choose the file's columns first"
    : preview.fills_total === 0 && preview.duplicates_total === 0
      ? "the file has no fills to store"
      : target === "existing" && !runId
        ? "choose a run"
        : target === "new" && !name.trim()
          ? "name the new run"
          : null;

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    const body = {
      run_id: target === "existing" ? Number(runId) : undefined,
      new_run: target === "new" ? { name: name.trim(), mode } : undefined,
      account: account.trim() || undefined,
    };
    try {
      onConfirmed(await unwrap(api.POST("/api/imports/{import_id}/confirm", { params: { path: { import_id: preview.id } }, body })));
    } catch (e) {
      setError(toError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" data-testid="import-confirm">
      <h2>Where the fills go</h2>
      <div className="row">
        <label className="check">
          <input type="radio" name="target" checked={target === "new"} onChange={() => setTarget("new")} /> A new run
        </label>
        <label className="check">
          <input type="radio" name="target" checked={target === "existing"} onChange={() => setTarget("existing")} /> An existing run
        </label>
      </div>
      <div className="row">
        {target === "new" ? (
          <>
            <label>
              Run name
              <input name="run-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
            </label>
            <label>
              Mode
              <select name="run-mode" value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
                <option value="live">live</option>
                <option value="paper">paper</option>
                <option value="backtest">backtest</option>
              </select>
            </label>
          </>
        ) : (
          <label>
            Run
            <select name="run-id" value={runId} onChange={(e) => setRunId(e.target.value)}>
              <option value="">— choose a run —</option>
              {runs.data?.items.map((r) => (
                <option key={r.id} value={r.id}>
                  #{r.id} {r.key} ({r.mode}, {r.strategy.name})
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Account <span className="dim">(optional)</span>
          <input name="account" list="import-accounts" value={account} onChange={(e) => setAccount(e.target.value)} placeholder={accounts.length ? accounts.join(", ") : "e.g. U1234567"} />
          <datalist id="import-accounts">
            {accounts.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <span className="hint">replaces the account of every fill; empty keeps the file's</span>
        </label>
      </div>
      <ErrorNote error={error ?? runs.error} />
      {problem && <p className="dim">To import: {problem}.</p>}
      <div className="row">
        <button className="primary" type="button" disabled={!!problem || busy} onClick={() => void confirm()}>
          Import {num(preview.fills_total, 0)} new {preview.fills_total === 1 ? "fill" : "fills"}
        </button>
        <button type="button" onClick={onDiscard} disabled={busy}>
          Discard
        </button>
      </div>
    </section>
  );
}

function Progress({ status, onStatus, onAnother }: { status: ImportStatus; onStatus: (s: ImportStatus) => void; onAnother: () => void }) {
  const stream = useStreamState();
  const statusRef = useRef(status);
  statusRef.current = status;
  const [error, setError] = useState<Error>();
  const running = status.state === "running";
  const id = status.id;

  const refetch = async () => {
    try {
      const next = await unwrap(api.GET("/api/imports/{import_id}", { params: { path: { import_id: id } } }));
      const current = statusRef.current;
      // A poll that answers before a newer stream message does not move the bar back.
      if (next.state !== "running" || next.progress.done >= current.progress.done) onStatus(next);
    } catch (e) {
      setError(toError(e));
    }
  };
  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;

  useStream(
    ["import_progress", "import_finished"],
    (message) => {
      const { status: next, refetch: again } = applyEvent(statusRef.current, message as ImportEvent);
      if (next !== statusRef.current) onStatus(next);
      if (again) void refetchRef.current();
    },
    100,
  );

  // A small file can finish before the stream's subscription: ask once at the start.
  useEffect(() => {
    const timer = setTimeout(() => void refetchRef.current(), 300);
    return () => clearTimeout(timer);
  }, [id]);

  // The fallback: poll while running (faster when the stream is not open).
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void refetchRef.current(), stream === "open" ? POLL_MS * 3 : POLL_MS);
    return () => clearInterval(timer);
  }, [running, stream]);

  const summary = status.summary;
  return (
    <section className="panel" data-testid="import-status" data-state={status.state}>
      <h2>{running ? "Importing…" : status.state === "done" ? "Import finished" : "Import failed"}</h2>
      <div className="row" aria-live="polite">
        <Bar value={status.state === "done" ? 1 : fraction(status.progress.done, status.progress.total)} label="Import" testId="import-bar" />
        <span data-testid="import-progress-text">{progressText(status.progress)}</span>
      </div>
      <ErrorNote error={error} />
      {status.error && (
        <p className="error" role="alert" data-testid="import-error">
          {status.error}
        </p>
      )}
      {summary && (
        <>
          <p data-testid="summary-sentence">{summarySentence(summary)}</p>
          <div className="cards" data-testid="import-summary">
            {summaryLines(summary).map((line) => (
              <div className="card" key={line.testId}>
                <div className="card-label">{line.label}</div>
                <div className="card-value small" data-testid={line.testId}>
                  {line.value}
                </div>
              </div>
            ))}
          </div>
          {summary.refused.length > 0 && (
            <>
              <h3 className="spaced">Refused rows</h3>
              <RowList testId="summary-refused-rows" items={summary.refused.map((r) => [r.row, r.reason])} total={summary.refused_total} empty="" />
            </>
          )}
          <p>
            <Link to={`/runs/${summary.run_id}`} data-testid="summary-run-link">
              Open run #{summary.run_id}
            </Link>
          </p>
        </>
      )}
      {!running && (
        <button type="button" onClick={onAnother}>
          Import another file
        </button>
      )}
    </section>
  );
}
