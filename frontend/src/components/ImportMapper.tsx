// The generic CSV's column picker: a column of the file per fill field, the file's time
// zone and date format. Every complete change re-reads the staged file on the server
// (PUT /api/imports/{id}/mapping), so the preview below follows the picker live; the
// mapping can be saved by name and a saved one picked for the next file.
import { useEffect, useRef, useState } from "react";
import { ErrorNote } from "./Layout";
import { api, unwrap } from "../api/client";
import { useLoad } from "../lib/hooks";
import {
  FIELD_LABELS,
  OPTIONAL_FIELDS,
  REQUIRED_FIELDS,
  guessMapping,
  mappingBody,
  mappingProblem,
  type ImportPreview,
  type Mapping,
  type MappingField,
} from "../lib/imports";

// strptime formats as brokers write times (empty: ISO 8601, with or without an offset).
const DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M:%S", "%Y%m%d %H%M%S", "%Y.%m.%d %H:%M:%S"];

export interface MapperSettings {
  mapping: Mapping;
  tz: string;
  dateFormat: string;
}

/** The picker's first settings: the preview's mapping, else a guess from the header. */
export function initialSettings(preview: Pick<ImportPreview, "mapping" | "columns">, zone: string): MapperSettings {
  const mapping = (preview.mapping as Mapping | null) ?? guessMapping(preview.columns);
  return { mapping, tz: zone, dateFormat: "" };
}

export function ImportMapper({ preview, zone, onPreview }: { preview: ImportPreview; zone: string; onPreview: (next: ImportPreview) => void }) {
  const saved = useLoad((signal) => unwrap(api.GET("/api/imports/mappings", { signal })), []);
  const [settings, setSettings] = useState<MapperSettings>(() => initialSettings(preview, zone));
  const [saveAs, setSaveAs] = useState("");
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [savedNote, setSavedNote] = useState("");
  const sent = useRef("");
  const problem = mappingProblem(settings.mapping, preview.columns);
  const id = preview.id;

  const send = async (save?: string) => {
    const body = { mapping: mappingBody(settings.mapping), tz: settings.tz || undefined, date_format: settings.dateFormat || undefined, save_as: save };
    setBusy(true);
    setError(undefined);
    try {
      const next = await unwrap(api.PUT("/api/imports/{import_id}/mapping", { params: { path: { import_id: id } }, body }));
      onPreview(next);
      if (save) {
        setSavedNote(`Saved as "${save}".`);
        setSaveAs("");
        saved.reload();
      }
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const sendRef = useRef(send);
  sendRef.current = send;

  // Live re-preview: a complete mapping is sent 400 ms after the last change, once.
  const key = JSON.stringify(settings);
  useEffect(() => {
    if (problem || sent.current === key) return;
    const timer = setTimeout(() => {
      sent.current = key;
      void sendRef.current();
    }, 400);
    return () => clearTimeout(timer);
  }, [key, problem]);

  const choose = (field: MappingField, column: string) => setSettings({ ...settings, mapping: { ...settings.mapping, [field]: column } });
  const pick = (name: string) => {
    const found = saved.data?.find((m) => m.name === name);
    if (found) setSettings({ mapping: found.mapping as Mapping, tz: found.tz ?? zone, dateFormat: found.date_format ?? "" });
  };

  const field = (name: MappingField, required: boolean) => (
    <label key={name}>
      {FIELD_LABELS[name]} {required ? <span className="dim">(needed)</span> : <span className="dim">(optional)</span>}
      <select name={`map-${name}`} value={settings.mapping[name] ?? ""} onChange={(e) => choose(name, e.target.value)} aria-invalid={required && !settings.mapping[name]}>
        <option value="">{required ? "— choose a column —" : "— none —"}</option>
        {preview.columns.map((column) => (
          <option key={column} value={column}>
            {column}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section className="panel" data-testid="import-mapper">
      <h2>Columns of the file</h2>
      <p className="dim">Choose which column of the file holds each field of a fill. The preview below is read again with every change.</p>
      {(saved.data?.length ?? 0) > 0 && (
        <div className="row">
          <label>
            Saved mapping
            <select name="saved-mapping" defaultValue="" onChange={(e) => pick(e.target.value)}>
              <option value="">— pick one —</option>
              {saved.data?.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      <div className="row mapper-fields">
        {REQUIRED_FIELDS.map((name) => field(name, true))}
        {OPTIONAL_FIELDS.map((name) => field(name, false))}
      </div>
      <div className="row">
        <label>
          Time zone of the file's times
          <input name="map-tz" value={settings.tz} onChange={(e) => setSettings({ ...settings, tz: e.target.value })} placeholder="e.g. America/New_York" />
          <span className="hint">IANA name; used for times written without an offset</span>
        </label>
        <label>
          Date format
          <input name="map-date-format" list="date-formats" value={settings.dateFormat} onChange={(e) => setSettings({ ...settings, dateFormat: e.target.value })} placeholder="ISO 8601" />
          <datalist id="date-formats">
            {DATE_FORMATS.map((f) => (
              <option key={f} value={f} />
            ))}
          </datalist>
          <span className="hint">strptime codes, e.g. %m/%d/%Y %H:%M:%S; empty reads ISO 8601</span>
        </label>
      </div>
      {problem ? (
        <p className="warning" data-testid="mapping-problem">
          To preview: {problem}.
        </p>
      ) : (
        <p className="dim" aria-live="polite" data-testid="mapping-state">
          {busy ? "Reading the file with this mapping…" : "The preview below uses this mapping."}
        </p>
      )}
      <ErrorNote error={error ?? saved.error} />
      <div className="row">
        <label>
          Save this mapping as
          <input name="save-as" value={saveAs} onChange={(e) => setSaveAs(e.target.value)} placeholder="e.g. My broker" maxLength={100} />
        </label>
        <button type="button" disabled={!!problem || !saveAs.trim() || busy} onClick={() => void send(saveAs.trim())}>
          Save mapping
        </button>
        {savedNote && (
          <span className="dim" data-testid="mapping-saved">
            {savedNote}
          </span>
        )}
      </div>
    </section>
  );
}
