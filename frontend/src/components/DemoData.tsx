// "Load demo data": one backtest of ma_cross on built-in synthetic bars (symbol DEMO, source
// `demo`), so every page has something to show within seconds. Idempotent, labelled, removable.
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { percent } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { ErrorNote } from "./Layout";

export function DemoData() {
  const demo = useLoad((signal) => unwrap(api.GET("/api/demo", { signal })), []);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  useStream(["backtest_progress"], () => demo.reload(), 300);
  const backtest = demo.data?.backtest ?? null;
  const act = async (call: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await call();
      setError(undefined);
      demo.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const running = backtest?.status === "queued" || backtest?.status === "running";
  return (
    <section className="panel" data-testid="demo-data">
      <h2>Demo data</h2>
      <p className="dim">
        New here? Load a demo: a backtest of the <code>ma_cross</code> strategy on 30 days of built-in synthetic 1-second bars of <code>DEMO</code> (multiplier 5, tick 0.25, $0.62
        commission, $25,000 starting capital). It appears as a <strong>backtest</strong> run of source <code>demo</code>, fills every page in seconds, and can be removed again.
      </p>
      <ErrorNote error={demo.error ?? error} />
      {backtest === null ? (
        <button className="primary" disabled={busy} onClick={() => void act(() => unwrap(api.POST("/api/demo")))}>
          Load demo data
        </button>
      ) : (
        <div className="row" data-testid="demo-state" data-status={backtest.status}>
          <span>
            Demo backtest: <span className={`status ${backtest.status}`}>{backtest.status}</span>
            {running && ` ${percent(backtest.progress, 0)}`}
            {backtest.error && <span className="neg"> {backtest.error}</span>}
          </span>
          {backtest.run_id !== null && <Link to={`/runs/${backtest.run_id}`}>Open the demo run</Link>}
          {backtest.status === "failed" && (
            <button disabled={busy} onClick={() => void act(() => unwrap(api.POST("/api/demo")))}>
              Try again
            </button>
          )}
          <button className="danger" disabled={busy || running} onClick={() => void act(() => unwrap(api.DELETE("/api/demo")))}>
            Remove demo data
          </button>
        </div>
      )}
    </section>
  );
}
