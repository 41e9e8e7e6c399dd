// A trade's review (issue 18): its playbook, the playbook's rules ticked followed or
// broken, its mistakes and its review state. Every change is saved at once
// (PUT /api/trades/{id}/journal), so nothing here can be lost by leaving the page.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { percent } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { nextTick, tickLabel, type Tick } from "../lib/journal";
import { ErrorNote } from "./Layout";

type Journal = Schemas["TradeJournalRead"];
type JournalWrite = Schemas["TradeJournalWrite"];

export function saveJournal(tradeId: number, body: JournalWrite): Promise<Journal> {
  return unwrap(api.PUT("/api/trades/{trade_id}/journal", { params: { path: { trade_id: tradeId } }, body }));
}

const TICK_MARK: Record<string, string> = { followed: "✓", broken: "✗", "not ticked": "" };

/** `save` sends a change and shows its answer (the trade page orders saves and live refreshes). */
export function TradeReview({ journal, save: send }: { journal: Journal; save: (body: JournalWrite) => Promise<unknown> }) {
  const playbooks = useLoad((signal) => unwrap(api.GET("/api/playbooks", { signal })), []);
  const mistakes = useLoad((signal) => unwrap(api.GET("/api/mistakes", { signal })), []);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [newMistake, setNewMistake] = useState("");
  useStream(["journal_changed"], (message) => {
    if (message.target === "playbook") playbooks.reload();
    if (message.target === "mistake") mistakes.reload();
  });

  const pending = useRef(0);
  const save = async (body: JournalWrite) => {
    setBusy(true);
    setError(undefined);
    pending.current++;
    try {
      await send(body);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      pending.current--;
      setBusy(pending.current > 0);
    }
  };
  // The ticked mistakes show at once (the box is the user's); the server's answer then rules.
  const [mistakeIds, setMistakeIds] = useState(() => journal.mistakes.map((m) => m.id));
  // A live refresh that lands while a save is on its way may predate it: the save's answer rules.
  useEffect(() => {
    if (pending.current === 0) setMistakeIds(journal.mistakes.map((m) => m.id));
  }, [journal.mistakes]);
  const toggleMistake = (id: number, on: boolean) => {
    const next = on ? [...mistakeIds, id] : mistakeIds.filter((m) => m !== id);
    setMistakeIds(next);
    void save({ mistake_ids: next });
  };
  const addMistake = async (event: FormEvent) => {
    event.preventDefault();
    const name = newMistake.trim();
    if (!name) return;
    try {
      const existing = (mistakes.data ?? []).find((m) => m.name.toLowerCase() === name.toLowerCase());
      const mistake = existing ?? (await unwrap(api.POST("/api/mistakes", { body: { name } })));
      setNewMistake("");
      mistakes.reload();
      if (!mistakeIds.includes(mistake.id)) await save({ mistake_ids: [...mistakeIds, mistake.id] });
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const reviewed = journal.review_state === "reviewed";
  const current = (playbooks.data ?? []).find((p) => p.id === journal.playbook_id);

  return (
    <div className="review" data-testid="trade-review">
      <div className="row">
        <label>
          Playbook
          <select
            name="playbook"
            value={journal.playbook_id ?? ""}
            disabled={busy}
            onChange={(e) => void save({ playbook_id: e.target.value ? Number(e.target.value) : null })}
          >
            <option value="">{journal.playbook_source === "strategy" ? "None by hand (the strategy's default applies)" : "No playbook"}</option>
            {(playbooks.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        {journal.playbook_source === "strategy" && <span className="dim">the default of the run's strategy{current?.strategy ? ` (${current.strategy})` : ""}</span>}
        {current && <Link to={`/playbooks/${current.id}`}>Open playbook</Link>}
      </div>
      {journal.rules.length > 0 && (
        <fieldset className="rules" data-testid="rule-ticks">
          <legend>
            Rules — click to tick: followed ✓, broken ✗, not ticked · adherence{" "}
            <span data-testid="adherence" title="followed rules over ticked rules">
              {journal.adherence === null ? "— (none ticked)" : percent(journal.adherence, 0)}
            </span>
          </legend>
          {journal.rules.map((rule) => {
            const state = tickLabel(rule.followed as Tick);
            return (
              <button
                key={rule.rule_id}
                type="button"
                className={`tick ${state.replace(" ", "-")}`}
                data-tick={state}
                aria-label={`${rule.text}: ${state}`}
                disabled={busy}
                onClick={() => void save({ rules: [{ rule_id: rule.rule_id, followed: nextTick(rule.followed as Tick) }] })}
              >
                <span className="tick-box" aria-hidden="true">
                  {TICK_MARK[state]}
                </span>
                <span>{rule.text}</span>
                <span className="dim tick-state">{state}</span>
              </button>
            );
          })}
        </fieldset>
      )}
      {journal.playbook_id !== null && journal.rules.length === 0 && <p className="dim">This playbook has no rules yet.</p>}
      <fieldset className="mistakes" data-testid="trade-mistakes">
        <legend>Mistakes</legend>
        {(mistakes.data ?? []).map((m) => (
          <label className="check chip" key={m.id}>
            <input type="checkbox" checked={mistakeIds.includes(m.id)} onChange={(e) => toggleMistake(m.id, e.target.checked)} />
            {m.name}
          </label>
        ))}
        <form className="row inline-add" onSubmit={addMistake}>
          <input name="new-mistake" value={newMistake} maxLength={60} onChange={(e) => setNewMistake(e.target.value)} placeholder="new mistake, e.g. moved stop" aria-label="New mistake" />
          <button type="submit" disabled={!newMistake.trim()}>
            Add
          </button>
        </form>
      </fieldset>
      <div className="row">
        <button
          type="button"
          className={reviewed ? "" : "primary"}
          data-testid="review-toggle"
          data-state={journal.review_state}
          disabled={busy}
          onClick={() => void save({ review_state: reviewed ? "new" : "reviewed" })}
        >
          {reviewed ? "Reviewed ✓ — mark as new" : "Mark reviewed"}
        </button>
        <span className="dim key-hint" data-testid="key-hint">
          Keys: <kbd>r</kbd> marks this trade reviewed, <kbd>n</kbd> opens the next unreviewed one
        </span>
      </div>
      <ErrorNote error={error ?? playbooks.error ?? mistakes.error} />
    </div>
  );
}
