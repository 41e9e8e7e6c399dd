// The daily journal (issue 18): a month of days in the user's time zone, and a day's entry:
// the pre-market plan and end-of-day review in markdown (the preview renders through
// react-markdown, which renders no raw HTML: an entry cannot inject markup), mood and
// discipline 1-5, the day's trades and P&L beside it, its screenshots; and the template
// new days' plans start from.
import { useEffect, useRef, useState, type FormEvent } from "react";
import ReactMarkdown from "react-markdown";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { Attachments } from "../components/Attachments";
import { DataTable } from "../components/DataTable";
import { ErrorNote, Loading } from "../components/Layout";
import { journalColumns, tradeColumns } from "../components/TradeColumns";
import { useAuth } from "../lib/auth";
import { money, num, pnlClass } from "../lib/format";
import { useLoad, useStream, useUnsavedWarning } from "../lib/hooks";
import { isDay, monthDays, RATINGS, shiftMonth, today } from "../lib/journal";

type Day = Schemas["JournalDayRead"];
type Summary = Schemas["JournalDaySummary"];

interface Entry {
  plan: string;
  review: string;
  mood: number | null;
  discipline: number | null;
}

function entryOf(day: Day): Entry {
  return { plan: day.plan, review: day.review, mood: day.mood ?? null, discipline: day.discipline ?? null };
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a.plan === b.plan && a.review === b.review && a.mood === b.mood && a.discipline === b.discipline;
}

export default function Journal() {
  const params = useParams();
  const [search, setSearch] = useSearchParams();
  const timeZone = useAuth().user?.timezone;
  const day = isDay(params.day) ? params.day : today(timeZone);
  const monthParam = search.get("month");
  const month = monthParam && /^\d{4}-\d{2}$/.test(monthParam) ? monthParam : day.slice(0, 7);
  const setMonth = (next: string) => setSearch(next === day.slice(0, 7) ? {} : { month: next }, { replace: true });

  return (
    <div className="page">
      <div className="page-head">
        <h1>Journal</h1>
      </div>
      <div className="journal-layout">
        <section className="panel">
          <MonthView month={month} selected={day} onMonth={setMonth} />
          <Template />
        </section>
        <DayEntry key={day} day={day} />
      </div>
    </div>
  );
}

function MonthView({ month, selected, onMonth }: { month: string; selected: string; onMonth: (month: string) => void }) {
  const { cells, first, last } = monthDays(month);
  const days = useLoad((signal) => unwrap(api.GET("/api/journal/days", { params: { query: { from: first, to: last } }, signal })), [first, last]);
  useStream(["journal_changed"], (message) => {
    if (message.target === "day" || message.target === "trade") days.reload();
  });
  useStream(["position_derived"], () => days.reload(), 1000);
  const byDay = new Map<string, Summary>((days.data ?? []).map((d) => [d.day, d]));
  const title = new Date(`${month}-01T00:00:00Z`).toLocaleString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
  return (
    <div className="journal-month" data-testid="journal-month">
      <div className="row month-head">
        <button type="button" onClick={() => onMonth(shiftMonth(month, -1))} aria-label="Previous month">
          ←
        </button>
        <h2>{title}</h2>
        <button type="button" onClick={() => onMonth(shiftMonth(month, 1))} aria-label="Next month">
          →
        </button>
      </div>
      <ErrorNote error={days.error} />
      <div className="journal-grid">
        {["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d) => (
          <span className="calendar-head" key={d}>
            {d}
          </span>
        ))}
        {cells.map((date, i) => {
          if (!date) return <span key={i} />;
          const summary = byDay.get(date);
          const tone = summary && summary.trades > 0 ? pnlClass(summary.net_pnl) : "";
          const label = `${date}: ${summary ? `${num(summary.trades, 0)} trade(s), net P&L ${money(summary.net_pnl)}${summary.has_entry ? ", journal written" : ""}` : "no trades, no entry"}`;
          return (
            <Link
              key={date}
              to={`/journal/${date}${date.slice(0, 7) === month ? "" : `?month=${month}`}`}
              className={`journal-day ${tone} ${date === selected ? "selected" : ""}`}
              aria-label={label}
              aria-current={date === selected ? "date" : undefined}
              title={label}
              data-day={date}
            >
              <span className="journal-day-number">{Number(date.slice(8))}</span>
              {summary && summary.trades > 0 && <span className="journal-day-pnl">{money(summary.net_pnl, 0)}</span>}
              {summary?.has_entry && <span className="journal-day-dot" aria-hidden="true">✎</span>}
            </Link>
          );
        })}
      </div>
      <p className="dim chart-note">Days in your time zone. Green or red: the day's net P&L ($, closed trades after commission); ✎: an entry written.</p>
    </div>
  );
}

function MarkdownField({ name, label, value, onChange, rows = 8 }: { name: string; label: string; value: string; onChange: (value: string) => void; rows?: number }) {
  const [preview, setPreview] = useState(false);
  return (
    <div className="markdown-field" data-testid={`md-${name}`}>
      <div className="chart-head">
        <h3>{label}</h3>
        <div className="tabs" role="tablist" aria-label={`${label}: write or preview`}>
          <button type="button" role="tab" aria-selected={!preview} className={preview ? "" : "active"} onClick={() => setPreview(false)}>
            Write
          </button>
          <button type="button" role="tab" aria-selected={preview} className={preview ? "active" : ""} onClick={() => setPreview(true)}>
            Preview
          </button>
        </div>
      </div>
      {preview ? (
        <div className="markdown" data-testid={`preview-${name}`}>
          {value.trim() ? <ReactMarkdown>{value}</ReactMarkdown> : <p className="dim">Nothing written yet.</p>}
        </div>
      ) : (
        <textarea name={name} aria-label={label} rows={rows} maxLength={20000} value={value} onChange={(e) => onChange(e.target.value)} placeholder="Markdown: **bold**, - lists, # headings" />
      )}
    </div>
  );
}

function Rating({ name, label, value, onChange }: { name: string; label: string; value: number | null; onChange: (value: number | null) => void }) {
  return (
    <label>
      {label}
      <select name={name} value={value ?? ""} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}>
        <option value="">—</option>
        {[1, 2, 3, 4, 5].map((n) => (
          <option key={n} value={n}>
            {RATINGS[n]}
          </option>
        ))}
      </select>
    </label>
  );
}

function DayEntry({ day }: { day: string }) {
  const navigate = useNavigate();
  const entry = useLoad((signal) => unwrap(api.GET("/api/journal/days/{day}", { params: { path: { day } }, signal })), [day]);
  const [draft, setDraft] = useState<Entry | null>(null);
  const [saved, setSaved] = useState<Entry | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [elsewhere, setElsewhere] = useState(false);
  const [error, setError] = useState<Error>();
  const dirty = !!draft && !!saved && !sameEntry(draft, saved);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useUnsavedWarning(dirty, "This day's journal has unsaved changes. Leave and lose them?");

  // What the server holds replaces the form unless the user is editing it (then say so).
  useEffect(() => {
    if (!entry.data) return;
    const stored = entryOf(entry.data);
    if (dirtyRef.current) {
      setElsewhere(true);
      return;
    }
    setDraft(stored);
    setSaved(stored);
    setElsewhere(false);
  }, [entry.data]);
  useEffect(() => {
    setStatus(null);
    setError(undefined);
  }, [day]);
  useStream(["journal_changed"], (message) => {
    if ((message.target === "day" && message.key === day) || message.target === "trade") entry.reload();
  });
  useStream(["position_derived"], () => entry.reload(), 1000);
  const playbooks = useLoad((signal) => unwrap(api.GET("/api/playbooks", { signal })), []);

  if (entry.error) return <ErrorNote error={entry.error} />;
  if (!entry.data || !draft) return <Loading />;
  const d = entry.data;
  const set = (change: Partial<Entry>) => {
    setStatus(null);
    setDraft({ ...draft, ...change });
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const stored = await unwrap(api.PUT("/api/journal/days/{day}", { params: { path: { day } }, body: draft }));
      setSaved(entryOf(stored));
      setDraft(entryOf(stored));
      setElsewhere(false);
      setStatus("Saved");
      entry.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the journal entry of ${day}? Its screenshots go too.`)) return;
    try {
      await unwrap(api.DELETE("/api/journal/days/{day}", { params: { path: { day } } }));
      setSaved(null);
      setDraft(null);
      entry.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const names = new Map((playbooks.data ?? []).map((p) => [p.id, p.name]));
  const columns = [...tradeColumns.filter((c) => ["id", "entry_ts", "symbol", "direction", "net_pnl"].includes(c.key)), ...journalColumns(names).slice(0, 1)];
  const closed = d.trades.filter((t) => !t.open).length;

  return (
    <div className="journal-day-entry">
      <section className="panel" data-testid="journal-entry">
        <div className="page-head">
          <h2>
            {new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric", timeZone: "UTC" })}
            {!d.exists && <span className="dim"> · no entry yet (the plan starts from your template)</span>}
          </h2>
        </div>
        <form className="journal" onSubmit={save}>
          <MarkdownField name="plan" label="Pre-market plan" value={draft.plan} onChange={(plan) => set({ plan })} />
          <MarkdownField name="review" label="End-of-day review" value={draft.review} onChange={(review) => set({ review })} />
          <div className="row">
            <Rating name="mood" label="Mood (1-5)" value={draft.mood} onChange={(mood) => set({ mood })} />
            <Rating name="discipline" label="Discipline (1-5)" value={draft.discipline} onChange={(discipline) => set({ discipline })} />
          </div>
          {elsewhere && <p className="warning">This day was changed in another tab; saving here replaces that.</p>}
          <ErrorNote error={error} />
          <div className="row">
            <button className="primary" type="submit">
              Save day
            </button>
            {d.exists && (
              <button type="button" className="danger" onClick={() => void remove()}>
                Delete entry
              </button>
            )}
            {status && !dirty && (
              <span className="pos" data-testid="day-saved">
                {status}
              </span>
            )}
            {dirty && (
              <span className="dim" data-testid="day-unsaved">
                Unsaved changes
              </span>
            )}
          </div>
        </form>
      </section>
      <section className="panel" data-testid="journal-trades">
        <h2>
          The day's trades:{" "}
          <span className={pnlClass(d.net_pnl)} data-testid="day-net-pnl" title="net P&L of the day's closed trades, after commission ($)">
            {money(d.net_pnl)}
          </span>
        </h2>
        <p className="dim">
          {num(d.trade_count, 0)} trade(s) entered this day in your time zone{d.trade_count > d.trades.length ? ` (the first ${num(d.trades.length, 0)} listed)` : ""}, {num(closed, 0)} of those listed closed; net P&L ($) counts the closed ones after commission.
        </p>
        <DataTable testId="day-trades" columns={columns} rows={d.trades} rowKey={(t) => t.id} onOpen={(t) => navigate(`/trades/${t.id}`)} empty="No trades this day." />
      </section>
      <section className="panel">
        <Attachments target="day" targetKey={day} paste />
      </section>
    </div>
  );
}

/** The plan a new day starts with. */
function Template() {
  const template = useLoad((signal) => unwrap(api.GET("/api/journal/template", { signal })), []);
  useStream(["journal_changed"], (message) => {
    if (message.target === "day" && message.key === "template") template.reload();
  });
  const [text, setText] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<Error>();
  const edited = text !== null && text !== template.data?.template;
  // The stored template fills the field, unless the user has changed what it last filled in.
  const synced = useRef<string | null>(null);
  const textRef = useRef(text);
  textRef.current = text;
  useEffect(() => {
    if (!template.data) return;
    if (textRef.current === null || textRef.current === synced.current) {
      synced.current = template.data.template;
      setText(template.data.template);
    }
  }, [template.data]);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (text === null) return;
    setError(undefined);
    try {
      await unwrap(api.PUT("/api/journal/template", { body: { template: text } }));
      setStatus("Template saved");
      template.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <details className="template" data-testid="journal-template">
      <summary>Template for new days' plan</summary>
      <form className="journal" onSubmit={save}>
        <p className="dim">A day without an entry starts its pre-market plan with this (markdown).</p>
        {text === null ? (
          <Loading />
        ) : (
        <textarea
          name="template"
          aria-label="Plan template"
          rows={6}
          maxLength={20000}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setStatus(null);
          }}
        />
        )}
        <ErrorNote error={error ?? template.error} />
        <div className="row">
          <button type="submit" disabled={!edited}>
            Save template
          </button>
          {status && <span className="pos">{status}</span>}
        </div>
      </form>
    </details>
  );
}
