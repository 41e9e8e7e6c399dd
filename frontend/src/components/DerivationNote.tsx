// Says whether the trades on a page are current: positions still being rebuilt after the
// latest fills, and positions whose rebuild failed (with the reason and the next try).
import type { Schemas } from "../api/client";
import { dateTime } from "../lib/format";

export type DerivationState = Schemas["DerivationState"];

export function derivationSummary(state: DerivationState | null | undefined): string | null {
  if (!state || state.state === "derived") return null;
  const parts: string[] = [];
  if (state.pending_positions > 0) {
    const n = state.pending_positions;
    parts.push(`${n} position${n === 1 ? " is" : "s are"} still being rebuilt; the trades and figures below may change.`);
  }
  const failed = state.failed_positions.length;
  if (failed > 0) {
    parts.push(`${failed} position${failed === 1 ? "" : "s"} could not be rebuilt; their trades are missing or out of date.`);
  }
  return parts.join(" ");
}

export function DerivationNote({ state, showRun = false }: { state: DerivationState | null | undefined; showRun?: boolean }) {
  const summary = derivationSummary(state);
  if (!state || !summary) return null;
  const failed = state.failed_positions;
  return (
    <div className={failed.length ? "error derivation" : "note derivation"} role="status" data-testid="derivation-note">
      <p>{summary}</p>
      {failed.length > 0 && (
        <ul>
          {failed.map((f) => (
            <li key={`${f.run_id}:${f.account}:${f.symbol}`}>
              {showRun && <a href={`/runs/${f.run_id}`}>Run {f.run_id}, </a>}
              <strong>{f.symbol}</strong>
              {f.account ? ` (account ${f.account})` : ""}: failing since {dateTime(f.since)}, {f.attempts} attempt
              {f.attempts === 1 ? "" : "s"}, next try {f.retry_at ? dateTime(f.retry_at) : "as soon as possible"}. Reason: <code>{f.error}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
