// Instruments: what each symbol is worth (multiplier, tick, currency, default risk). A change
// that re-prices existing trades is shown with the runs and trades it touches, and applied
// only once confirmed (the API answers 409 until `?confirm=true`).
import { useState, type FormEvent } from "react";
import { ApiError, api, unwrap } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { dateTime, num } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { changesOf, FIELDS, formOf, localConflict, repriceWarning, type Instrument, type InstrumentConflict, type InstrumentForm } from "../lib/instruments";

export default function Instruments() {
  const instruments = useLoad((signal) => unwrap(api.GET("/api/instruments", { signal })), []);
  const [editing, setEditing] = useState<Instrument | "new" | null>(null);

  const columns: Column<Instrument>[] = [
    { key: "symbol", header: "Symbol", render: (i) => <strong title="click the row (or Enter) to edit">{i.symbol}</strong> },
    { key: "multiplier", header: "Multiplier (per point)", render: (i) => num(i.multiplier, 4).replace(/\.?0+$/, ""), align: "right" },
    { key: "tick", header: "Tick size (points)", render: (i) => (i.tick_size === null ? <span className="dim">—</span> : String(i.tick_size)), align: "right" },
    { key: "currency", header: "Currency", render: (i) => i.currency ?? <span className="dim">—</span> },
    { key: "class", header: "Asset class", render: (i) => i.asset_class ?? <span className="dim">—</span> },
    { key: "risk", header: "Default risk (points)", render: (i) => (i.default_risk === null ? <span className="dim">—</span> : String(i.default_risk)), align: "right" },
    { key: "runs", header: "Runs", render: (i) => i.run_count, align: "right" },
    { key: "trades", header: "Trades", render: (i) => i.trade_count, align: "right" },
    { key: "updated", header: "Updated", render: (i) => dateTime(i.updated_at) },
    {
      key: "edit",
      header: "",
      render: (i) => (
        <button onClick={(e) => (e.stopPropagation(), setEditing(i))} aria-label={`Edit ${i.symbol}`}>
          Edit
        </button>
      ),
    },
  ];

  return (
    <div className="page">
      <h1>Instruments</h1>
      <section className="panel">
        <p className="dim">
          An instrument says what a symbol's price moves are worth: every trade's P&amp;L is (exit − entry) × quantity × <strong>multiplier</strong>, net of commission. Exporters and CLI
          backtests create them; a backtest from the dashboard uses them as they are and never changes them. Changing a multiplier or default risk re-prices the symbol's
          existing trades, so you are asked first. Click a row (or press Enter on it) to edit it.
        </p>
        <ErrorNote error={instruments.error} />
        <DataTable testId="instruments" columns={columns} rows={instruments.data ?? []} rowKey={(i) => i.symbol} onOpen={setEditing} empty="No instruments yet: they arrive with your first exporter push or backtest." />
        <div className="row">
          <button onClick={() => setEditing("new")}>Add an instrument</button>
        </div>
      </section>
      {editing && (
        <EditInstrument
          key={editing === "new" ? "new" : editing.symbol}
          instrument={editing === "new" ? null : editing}
          onDone={() => {
            setEditing(null);
            instruments.reload();
          }}
        />
      )}
    </div>
  );
}

function EditInstrument({ instrument, onDone }: { instrument: Instrument | null; onDone: () => void }) {
  const before = formOf(instrument);
  const [symbol, setSymbol] = useState(instrument?.symbol ?? "");
  const [form, setForm] = useState<InstrumentForm>(before);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<InstrumentConflict | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (confirm: boolean) => {
    const { body, errors: problems } = changesOf(instrument ? before : formOf(null), form);
    if (!symbol.trim()) problems.symbol = "name the symbol, as your exporter sends it";
    setErrors(problems);
    if (Object.keys(problems).length) return;
    if (!Object.keys(body).length && instrument) return onDone();
    const warning = !confirm && instrument ? localConflict(instrument, body) : null;
    if (warning) return setConflict(warning);
    setBusy(true);
    try {
      await unwrap(
        api.PATCH("/api/instruments/{symbol}", {
          params: { path: { symbol: symbol.trim() }, query: confirm ? { confirm: true } : {} },
          body,
        }),
      );
      setConflict(null);
      onDone();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setConflict(error.body as unknown as InstrumentConflict);
      else if (error instanceof ApiError && error.status === 422) setErrors({ ...error.fieldErrors(), form: error.message });
      else setErrors({ form: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(false);
  };

  return (
    <section className="panel" data-testid="instrument-editor">
      <h2>{instrument ? `Edit ${instrument.symbol}` : "Add an instrument"}</h2>
      {instrument && (
        <p className="dim">
          Used by {instrument.trade_count} trade{instrument.trade_count === 1 ? "" : "s"} in {instrument.run_count} run{instrument.run_count === 1 ? "" : "s"}.
        </p>
      )}
      <form onSubmit={submit} noValidate data-testid="instrument-form">
        <div className="row">
          {!instrument && (
            <label title="the symbol exactly as your exporter sends it">
              Symbol
              <input name="symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)} aria-invalid={!!errors.symbol} />
              {errors.symbol && <span className="field-error">{errors.symbol}</span>}
            </label>
          )}
          {FIELDS.map((field) => (
            <label key={field.name} title={field.help}>
              {field.label} <span className="dim">({field.unit})</span>
              <input
                name={field.name}
                inputMode={field.numeric ? "decimal" : "text"}
                value={form[field.name]}
                onChange={(e) => {
                  setForm({ ...form, [field.name]: e.target.value });
                  setConflict(null);
                }}
                aria-invalid={!!errors[field.name]}
              />
              <span className="hint">{field.help}</span>
              {errors[field.name] && <span className="field-error">{errors[field.name]}</span>}
            </label>
          ))}
        </div>
        {errors.form && (
          <p className="error" role="alert">
            {errors.form}
          </p>
        )}
        {conflict ? (
          <div className="warning" role="alert" data-testid="reprice-warning">
            <p>
              <strong>This re-prices existing trades.</strong> {repriceWarning(conflict)}
            </p>
            <div className="row">
              <button className="danger" type="button" disabled={busy} onClick={() => void save(true)}>
                Re-price {conflict.affected.trades} trade{conflict.affected.trades === 1 ? "" : "s"} and save
              </button>
              <button type="button" onClick={() => setConflict(null)}>
                Keep the current values
              </button>
            </div>
          </div>
        ) : (
          <div className="row">
            <button className="primary" type="submit" disabled={busy}>
              Save
            </button>
            <button type="button" onClick={onDone}>
              Cancel
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
