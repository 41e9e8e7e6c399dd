// Playbooks (issue 18): the list with each one's trades and adherence, an editor (name,
// description, market conditions, default strategy, a checklist of rules to add, reorder
// and remove), its analytics (the headline metrics of its trades, each rule followed vs
// broken as a table and a chart), its attachments; and the user's list of mistakes.
import { lazy, Suspense, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { Attachments } from "../components/Attachments";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorNote, Loading } from "../components/Layout";
import { HeadlineCards, type MetricDoc } from "../components/Metrics";
import { dateTime, num, percent, pnlClass } from "../lib/format";
import { useLoad, useStream, useUnsavedWarning } from "../lib/hooks";
import { move } from "../lib/journal";
import { metricHeader, metricHint, metricText } from "../lib/metricDisplay";
import { useDefinitions, type Definitions } from "../lib/metricUnits";

const RuleBars = lazy(() => import("../components/Charts").then((m) => ({ default: m.RuleBars })));

type Playbook = Schemas["PlaybookRead"];
type Mistake = Schemas["MistakeRead"];
type Analytics = Schemas["PlaybookAnalytics"];
type Outcome = Schemas["OutcomeSummary"];

export default function Playbooks() {
  const { playbookId } = useParams();
  if (playbookId === "new") return <PlaybookPage key="new" id={null} />;
  if (playbookId !== undefined) return <PlaybookPage key={playbookId} id={Number(playbookId)} />;
  return <PlaybookList />;
}

const ADHERENCE_HINT = "mean, over its trades with a rule ticked, of followed rules / ticked rules";

function PlaybookList() {
  const navigate = useNavigate();
  const playbooks = useLoad((signal) => unwrap(api.GET("/api/playbooks", { signal })), []);
  useStream(["journal_changed"], (message) => {
    if (message.target === "playbook" || message.target === "trade") playbooks.reload();
  });
  const columns: Column<Playbook>[] = [
    { key: "name", header: "Playbook", render: (p) => <Link to={`/playbooks/${p.id}`}>{p.name}</Link> },
    { key: "strategy", header: "Default for strategy", render: (p) => p.strategy ?? <span className="dim">—</span>, phoneHide: true },
    { key: "rules", header: "Rules (count)", render: (p) => num(p.rules.length, 0), align: "right", phoneHide: true },
    { key: "trades", header: "Trades (count)", render: (p) => <span title="trades with this playbook, by hand or by their strategy">{num(p.trades, 0)}</span>, align: "right" },
    { key: "adherence", header: "Adherence (%)", render: (p) => <span title={ADHERENCE_HINT}>{percent(p.adherence, 0)}</span>, align: "right" },
  ];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Playbooks</h1>
        <div className="filters">
          <Link className="button primary" to="/playbooks/new">
            New playbook
          </Link>
        </div>
      </div>
      <p className="dim">
        A playbook is a setup you trade and its checklist of rules. Assign it on a trade's page (or let a strategy's trades take it by default), tick its rules followed or broken,
        and see here what following and breaking each rule earns. Adherence: {ADHERENCE_HINT}.
      </p>
      <ErrorNote error={playbooks.error} />
      <section className="panel">
        <DataTable testId="playbooks" columns={columns} rows={playbooks.data ?? []} rowKey={(p) => p.id} onOpen={(p) => navigate(`/playbooks/${p.id}`)} empty={playbooks.loading ? "Loading…" : "No playbooks yet."} />
      </section>
      <Mistakes />
    </div>
  );
}

/** The user's mistake tags: add, rename, delete; each with the trades it is on. */
export function Mistakes() {
  const mistakes = useLoad((signal) => unwrap(api.GET("/api/mistakes", { signal })), []);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<{ id: number; name: string } | null>(null);
  const [error, setError] = useState<Error>();
  useStream(["journal_changed"], (message) => {
    if (message.target === "mistake" || message.target === "trade") mistakes.reload();
  });
  const run = async (call: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await call();
      mistakes.reload();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    if (await run(() => unwrap(api.POST("/api/mistakes", { body: { name: name.trim() } })))) setName("");
  };
  const rename = async (event: FormEvent) => {
    event.preventDefault();
    if (!editing) return;
    const { id, name: next } = editing;
    if (await run(() => unwrap(api.PATCH("/api/mistakes/{mistake_id}", { params: { path: { mistake_id: id } }, body: { name: next.trim() } })))) setEditing(null);
  };
  const remove = (mistake: Mistake) => {
    if (!window.confirm(`Delete the mistake "${mistake.name}"? It comes off its ${mistake.trades} trade(s).`)) return;
    void run(() => unwrap(api.DELETE("/api/mistakes/{mistake_id}", { params: { path: { mistake_id: mistake.id } } })));
  };
  const columns: Column<Mistake>[] = [
    {
      key: "name",
      header: "Mistake",
      render: (m) =>
        editing?.id === m.id ? (
          <form className="row" onSubmit={rename}>
            <input aria-label={`Rename ${m.name}`} value={editing.name} maxLength={60} onChange={(e) => setEditing({ id: m.id, name: e.target.value })} />
            <button type="submit">Save</button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </form>
        ) : (
          <Link to={`/trades?mistake=${m.id}`}>{m.name}</Link>
        ),
    },
    { key: "trades", header: "Trades (count)", render: (m) => <span title="trades tagged with this mistake">{num(m.trades, 0)}</span>, align: "right" },
    {
      key: "actions",
      header: "",
      render: (m) => (
        <div className="row">
          <button onClick={() => setEditing({ id: m.id, name: m.name })} aria-label={`Rename ${m.name}`}>
            Rename
          </button>
          <button className="danger" onClick={() => remove(m)} aria-label={`Delete ${m.name}`}>
            Delete
          </button>
        </div>
      ),
    },
  ];
  return (
    <section className="panel" data-testid="mistakes">
      <h2>Mistakes</h2>
      <p className="dim">Tags for what went wrong on a trade (tick them on its page); the trades list filters by them and the breakdowns show what each costs.</p>
      <form className="row" onSubmit={add}>
        <label>
          New mistake
          <input name="mistake-name" value={name} maxLength={60} onChange={(e) => setName(e.target.value)} placeholder="e.g. moved stop, FOMO, oversized" />
        </label>
        <button className="primary" type="submit" disabled={!name.trim()}>
          Add mistake
        </button>
      </form>
      <ErrorNote error={error ?? mistakes.error} />
      <DataTable testId="mistake-list" columns={columns} rows={mistakes.data ?? []} rowKey={(m) => m.id} empty="No mistakes defined yet." />
    </section>
  );
}

interface RuleDraft {
  id?: number;
  text: string;
  /** A key for React that new rules (no id yet) also have. */
  key: string;
}

interface Draft {
  name: string;
  description: string;
  conditions: string;
  strategy: string;
  rules: RuleDraft[];
}

let draftKeys = 0;

function draftOf(playbook: Playbook | null): Draft {
  return {
    name: playbook?.name ?? "",
    description: playbook?.description ?? "",
    conditions: playbook?.conditions ?? "",
    strategy: playbook?.strategy ?? "",
    rules: (playbook?.rules ?? []).map((r) => ({ id: r.id, text: r.text, key: `rule-${r.id}` })),
  };
}

/** The body to send: rules in their order, those kept with their id (their ticks stay). */
export function playbookBody(draft: Draft): Schemas["PlaybookWrite"] {
  return {
    name: draft.name.trim(),
    description: draft.description,
    conditions: draft.conditions,
    strategy: draft.strategy.trim() || null,
    rules: draft.rules.filter((r) => r.text.trim()).map((r) => (r.id === undefined ? { text: r.text.trim() } : { id: r.id, text: r.text.trim() })),
  };
}

function same(a: Draft, b: Draft): boolean {
  return JSON.stringify(playbookBody(a)) === JSON.stringify(playbookBody(b));
}

function PlaybookPage({ id }: { id: number | null }) {
  const playbook = useLoad(
    (signal) => (id === null ? Promise.resolve(null) : unwrap(api.GET("/api/playbooks/{playbook_id}", { params: { path: { playbook_id: id } }, signal }))),
    [id],
  );
  useStream(["journal_changed"], (message) => {
    if (id !== null && message.target === "playbook" && message.key === String(id)) playbook.reload();
  });
  if (playbook.error) return <ErrorNote error={playbook.error} />;
  if (id !== null && !playbook.data) return <Loading />;
  return (
    <div className="page">
      <div className="page-head">
        <h1>{playbook.data ? `Playbook: ${playbook.data.name}` : "New playbook"}</h1>
        <div className="filters">
          <Link to="/playbooks">All playbooks</Link>
          {playbook.data && <Link to={`/trades?playbook=${playbook.data.id}`}>Its trades</Link>}
        </div>
      </div>
      <div className="two-col">
        <section className="panel">
          <PlaybookEditor playbook={playbook.data ?? null} onSaved={playbook.reload} />
        </section>
        {playbook.data && (
          <section className="panel">
            <Attachments target="playbook" targetKey={String(playbook.data.id)} title="Attachments (example charts of the setup)" paste />
          </section>
        )}
      </div>
      {playbook.data && <PlaybookAnalytics playbook={playbook.data} />}
    </div>
  );
}

function PlaybookEditor({ playbook, onSaved }: { playbook: Playbook | null; onSaved: () => void }) {
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Draft>(() => draftOf(playbook));
  const [saved, setSaved] = useState<Draft>(() => draftOf(playbook));
  const [newRule, setNewRule] = useState("");
  const [error, setError] = useState<Error>();
  const [status, setStatus] = useState<string | null>(null);
  const runs = useLoad((signal) => unwrap(api.GET("/api/runs", { params: { query: { limit: 500 } }, signal })), []);
  const strategies = [...new Set((runs.data?.items ?? []).map((r) => r.strategy.name))].sort();
  useEffect(() => {
    const stored = draftOf(playbook);
    setDraft(stored);
    setSaved(stored);
  }, [playbook]);
  const dirty = !same(draft, saved) || newRule.trim() !== "";
  const { leave } = useUnsavedWarning(dirty, "This playbook has unsaved changes. Leave and lose them?");

  const set = (change: Partial<Draft>) => {
    setStatus(null);
    setDraft((d) => ({ ...d, ...change }));
  };
  const addRule = () => {
    if (!newRule.trim()) return;
    set({ rules: [...draft.rules, { text: newRule.trim(), key: `new-${++draftKeys}` }] });
    setNewRule("");
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const withPending = newRule.trim() ? { ...draft, rules: [...draft.rules, { text: newRule.trim(), key: `new-${++draftKeys}` }] } : draft;
    const body = playbookBody(withPending);
    if (!body.name) return setError(new Error("name: give the playbook a name (1 to 100 characters)"));
    try {
      if (playbook) {
        await unwrap(api.PATCH("/api/playbooks/{playbook_id}", { params: { path: { playbook_id: playbook.id } }, body }));
        setNewRule("");
        setSaved(withPending);
        setStatus("Saved");
        onSaved();
      } else {
        const created = await unwrap(api.POST("/api/playbooks", { body }));
        setNewRule("");
        setSaved(withPending);
        setDraft(withPending);
        leave(); // saved: the move to the new playbook's page loses nothing
        navigate(`/playbooks/${created.id}`, { replace: true });
      }
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const remove = async () => {
    if (!playbook || !window.confirm(`Delete the playbook "${playbook.name}"? Its ${playbook.trades} trade(s) lose it, and its attachments go.`)) return;
    try {
      await unwrap(api.DELETE("/api/playbooks/{playbook_id}", { params: { path: { playbook_id: playbook.id } } }));
      leave();
      navigate("/playbooks");
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  return (
    <form className="journal playbook-form" onSubmit={save} data-testid="playbook-form">
      <label>
        Name
        <input name="name" value={draft.name} maxLength={100} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. Opening range breakout" />
      </label>
      <label>
        Description
        <textarea name="description" rows={3} value={draft.description} maxLength={10000} onChange={(e) => set({ description: e.target.value })} />
      </label>
      <label>
        Market conditions it is for
        <textarea name="conditions" rows={2} value={draft.conditions} maxLength={2000} onChange={(e) => set({ conditions: e.target.value })} placeholder="e.g. trending open, volume above average" />
      </label>
      <label>
        Default for the trades of strategy
        <input name="strategy" list="playbook-strategies" value={draft.strategy} maxLength={200} onChange={(e) => set({ strategy: e.target.value })} placeholder="none" />
        <span className="hint">Trades of this strategy's runs get this playbook unless you assign one by hand.</span>
        <datalist id="playbook-strategies">
          {strategies.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </label>
      <fieldset data-testid="rule-editor">
        <legend>Checklist ({draft.rules.length} of 50 rules)</legend>
        <ol className="rule-list">
          {draft.rules.map((rule, index) => (
            <li key={rule.key}>
              <input
                aria-label={`Rule ${index + 1}`}
                value={rule.text}
                maxLength={300}
                onChange={(e) => set({ rules: draft.rules.map((r, i) => (i === index ? { ...r, text: e.target.value } : r)) })}
              />
              <button type="button" onClick={() => set({ rules: move(draft.rules, index, -1) })} disabled={index === 0} aria-label={`Move rule ${index + 1} up`}>
                ↑
              </button>
              <button type="button" onClick={() => set({ rules: move(draft.rules, index, 1) })} disabled={index === draft.rules.length - 1} aria-label={`Move rule ${index + 1} down`}>
                ↓
              </button>
              <button type="button" className="danger" onClick={() => set({ rules: draft.rules.filter((_, i) => i !== index) })} aria-label={`Remove rule ${index + 1}`}>
                ✕
              </button>
            </li>
          ))}
        </ol>
        <div className="row">
          <input
            name="new-rule"
            aria-label="New rule"
            value={newRule}
            maxLength={300}
            placeholder="e.g. no trade in the first 5 minutes"
            onChange={(e) => setNewRule(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addRule();
              }
            }}
          />
          <button type="button" onClick={addRule} disabled={!newRule.trim() || draft.rules.length >= 50}>
            Add rule
          </button>
        </div>
      </fieldset>
      <ErrorNote error={error} />
      <div className="row">
        <button className="primary" type="submit">
          {playbook ? "Save playbook" : "Create playbook"}
        </button>
        {playbook && (
          <button type="button" className="danger" onClick={() => void remove()}>
            Delete playbook
          </button>
        )}
        {status && !dirty && (
          <span className="pos" data-testid="playbook-saved">
            {status}
          </span>
        )}
        {dirty && <span className="dim">Unsaved changes</span>}
      </div>
      {playbook && (
        <p className="dim">
          {num(playbook.trades, 0)} trade(s) · adherence <span title={ADHERENCE_HINT}>{percent(playbook.adherence, 0)}</span> · updated {dateTime(playbook.updated_at)}
        </p>
      )}
    </form>
  );
}

const OUTCOME_METRICS: [keyof Outcome, string][] = [
  ["trades", "trade_count"],
  ["net_pnl", "net_pnl"],
  ["win_rate", "win_rate"],
  ["expectancy", "expectancy"],
  ["profit_factor", "profit_factor"],
];

function OutcomeCells({ outcome, definitions }: { outcome: Outcome; definitions: Definitions }) {
  return (
    <>
      {OUTCOME_METRICS.map(([field, name]) => {
        const value = outcome[field];
        return (
          <td key={field} className={`num ${field === "net_pnl" || field === "expectancy" ? pnlClass(typeof value === "number" ? value : null) : ""}`} data-outcome={field}>
            {metricText(value, definitions[name])}
          </td>
        );
      })}
    </>
  );
}

function PlaybookAnalytics({ playbook }: { playbook: Playbook }) {
  const definitions = useDefinitions();
  const analytics = useLoad(
    (signal) => unwrap(api.GET("/api/playbooks/{playbook_id}/analytics", { params: { path: { playbook_id: playbook.id } }, signal })),
    [playbook.id, playbook.updated_at],
  );
  useStream(["journal_changed", "position_derived"], () => analytics.reload(), 1000);
  const data: Analytics | undefined = analytics.data;
  return (
    <>
      <section className="panel" data-testid="playbook-analytics">
        <h2>Its trades</h2>
        <p className="dim">
          The metrics of the {data ? num(data.trades, 0) : "…"} closed trade(s) with this playbook, computed as a run's are. Hover a number for what it tells.
        </p>
        <ErrorNote error={analytics.error} />
        <HeadlineCards metrics={data?.metrics as MetricDoc | undefined} definitions={definitions} />
      </section>
      <section className="panel" data-testid="rule-breakdown">
        <h2>Rule followed vs broken</h2>
        <p className="dim">
          For each rule, the closed trades that followed it and those that broke it (trades where it was not ticked count in neither), with the same metrics. What breaking a rule costs is the
          difference.
        </p>
        {data && data.rules.length > 0 ? (
          <>
            <div className="table-wrap">
              <table className="data rule-table" data-testid="rule-table">
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Side</th>
                    {OUTCOME_METRICS.map(([field, name]) => (
                      <th key={field} className="num" title={metricHint(definitions[name], undefined)}>
                        {metricHeader(name, definitions)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {data.rules.map((rule) => (
                    <RuleRows key={rule.rule_id} rule={rule} definitions={definitions} />
                  ))}
                </tbody>
              </table>
            </div>
            <p className="dim chart-note">
              {OUTCOME_METRICS.map(([, name]) => definitions[name] && `${definitions[name].label}: ${definitions[name].description}`)
                .filter(Boolean)
                .join(" · ")}
            </p>
            <h3>Net P&L ($) of the trades that followed each rule and of those that broke it</h3>
            <Suspense fallback={<Loading />}>
              <RuleBars rules={data.rules.map((r) => ({ text: r.text, followed: r.followed.net_pnl, broken: r.broken.net_pnl }))} />
            </Suspense>
          </>
        ) : (
          <p className="dim">{data ? "This playbook has no rules yet." : "…"}</p>
        )}
      </section>
    </>
  );
}

function RuleRows({ rule, definitions }: { rule: Schemas["RuleAnalytics"]; definitions: Definitions }) {
  return (
    <>
      <tr data-rule={rule.text}>
        <td rowSpan={2} className="wrap">
          {rule.text}
        </td>
        <td className="pos">followed</td>
        <OutcomeCells outcome={rule.followed} definitions={definitions} />
      </tr>
      <tr data-rule={rule.text} data-side="broken">
        <td className="neg">broken</td>
        <OutcomeCells outcome={rule.broken} definitions={definitions} />
      </tr>
    </>
  );
}
