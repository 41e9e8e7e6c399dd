// Backtests: pick a strategy plug-in and its parameters (ranges from GET /api/strategies),
// launch on stored bars or an uploaded 1-second CSV, and watch progress live.
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { dateTime, money, num, percent } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";

type Strategy = Schemas["StrategyRead"];
type Parameter = Schemas["ParameterRead"];
type Backtest = Schemas["BacktestRead"];

/** The cost and contract fields of the launch form, as text. */
export interface CostForm {
  multiplier: string;
  tick_size: string;
  commission: string;
  slippage_ticks: string;
  initial_capital: string;
}

export const DEFAULT_COSTS: CostForm = { multiplier: "1", tick_size: "0.01", commission: "0", slippage_ticks: "0", initial_capital: "100000" };

/** The form's cost fields prefilled from the symbol's stored instrument (defaults without one). */
export function costsFor(instrument: Schemas["InstrumentRead"] | undefined, current: CostForm): CostForm {
  if (!instrument) return { ...current, multiplier: DEFAULT_COSTS.multiplier, tick_size: DEFAULT_COSTS.tick_size };
  return { ...current, multiplier: String(instrument.multiplier), tick_size: String(instrument.tick_size ?? DEFAULT_COSTS.tick_size) };
}

/** The `settings` JSON of a launch: a stored instrument's multiplier and tick are left out
 *  (the backtest uses them as stored and never changes them); problems by field name. */
export function settingsOf(costs: CostForm, stored: boolean): { settings?: Record<string, number>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const settings: Record<string, number> = {};
  const fields: [keyof CostForm, boolean][] = [
    ["multiplier", true],
    ["tick_size", true],
    ["commission", false],
    ["slippage_ticks", false],
    ["initial_capital", true],
  ];
  for (const [name, positive] of fields) {
    if (stored && (name === "multiplier" || name === "tick_size")) continue;
    const value = Number(costs[name]);
    if (costs[name].trim() === "" || !Number.isFinite(value) || (positive ? value <= 0 : value < 0)) errors[name] = positive ? "a number above 0" : "a number, 0 or more";
    else settings[name] = value;
  }
  return Object.keys(errors).length ? { errors } : { settings, errors };
}

/** A parameter's text as the strategy wants it, or the reason it does not fit. */
export function parseParameter(p: Parameter, text: string): { value?: unknown; error?: string } {
  if (p.choices?.length) {
    const match = p.choices.find((c) => String(c) === text);
    return match === undefined ? { error: `one of ${p.choices.join(", ")}` } : { value: match };
  }
  if (p.type === "bool") return { value: text === "true" };
  if (p.type === "str") return { value: text };
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) return { error: "a number" };
  if (p.type === "int" && !Number.isInteger(value)) return { error: "a whole number" };
  if (p.minimum !== null && value < p.minimum) return { error: `≥ ${p.minimum}` };
  if (p.maximum !== null && value > p.maximum) return { error: `≤ ${p.maximum}` };
  return { value };
}

export default function Backtests() {
  const strategies = useLoad((signal) => unwrap(api.GET("/api/strategies", { signal })), []);
  const backtests = useLoad((signal) => unwrap(api.GET("/api/backtests", { params: { query: { limit: 100 } }, signal })), []);
  useStream(["backtest_progress"], () => backtests.reload(), 300);

  const columns: Column<Backtest>[] = [
    { key: "id", header: "#", render: (b) => b.id },
    { key: "strategy", header: "Strategy", render: (b) => `${b.strategy} ${JSON.stringify(b.params)}` },
    { key: "symbol", header: "Data", render: (b) => `${b.symbol} · ${b.interval} · ${b.data_source}` },
    { key: "status", header: "Status", render: (b) => <span className={`status ${b.status}`} data-status={b.status}>{b.status}</span> },
    {
      key: "progress",
      header: "Progress",
      render: (b) => (
        <span className="row">
          <span className="progress" role="progressbar" aria-valuenow={Math.round(b.progress * 100)} aria-valuemin={0} aria-valuemax={100}>
            <span style={{ width: `${Math.round(b.progress * 100)}%` }} />
          </span>
          {percent(b.progress, 0)}
        </span>
      ),
    },
    { key: "run", header: "Run", render: (b) => (b.run_id ? <Link to={`/runs/${b.run_id}`}>{b.run_id}</Link> : "—") },
    { key: "pnl", header: "Net PnL", render: (b) => money(resultNumber(b, "net_pnl")), align: "right" },
    { key: "trades", header: "Trades", render: (b) => num(resultNumber(b, "trade_count"), 0), align: "right" },
    { key: "created", header: "Started", render: (b) => dateTime(b.created_at) },
    { key: "error", header: "Error", render: (b) => (b.error ? <span className="neg">{b.error}</span> : "") },
  ];

  return (
    <div className="page">
      <h1>Backtests</h1>
      <section className="panel">
        <h2>Launch a backtest</h2>
        <ErrorNote error={strategies.error} />
        {strategies.data && <LaunchForm strategies={strategies.data} onLaunched={backtests.reload} />}
      </section>
      <section className="panel">
        <h2>Backtests</h2>
        <ErrorNote error={backtests.error} />
        <DataTable testId="backtests" columns={columns} rows={backtests.data ?? []} rowKey={(b) => b.id} empty="No backtests yet." />
      </section>
    </div>
  );
}

const COST_FIELDS: [keyof CostForm, string, string, string][] = [
  ["multiplier", "Multiplier", "currency per point", "what one point of price is worth per contract"],
  ["tick_size", "Tick size", "points", "the smallest price step; slippage is counted in ticks"],
  ["commission", "Commission", "currency per contract", "charged on every fill, per contract"],
  ["slippage_ticks", "Slippage", "ticks", "how far each market or stop fill lands past its price"],
  ["initial_capital", "Starting capital", "currency", "the equity returns and drawdown % are measured from"],
];

function resultNumber(b: Backtest, name: string): number | null {
  const metrics = (b.result?.metrics ?? b.result) as Record<string, unknown> | undefined;
  const value = metrics?.[name];
  return typeof value === "number" ? value : null;
}

function LaunchForm({ strategies, onLaunched }: { strategies: Strategy[]; onLaunched: () => void }) {
  const instruments = useLoad((signal) => unwrap(api.GET("/api/instruments", { signal })), []);
  const [name, setName] = useState(strategies[0]?.name ?? "");
  const strategy = strategies.find((s) => s.name === name);
  const [values, setValues] = useState<Record<string, string>>({});
  const [symbol, setSymbol] = useState("SYNTH");
  const [interval, setInterval] = useState("5m");
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [costs, setCosts] = useState<CostForm>(DEFAULT_COSTS);
  const stored = instruments.data?.find((i) => i.symbol === symbol.trim());

  useEffect(() => {
    setCosts((current) => costsFor(stored, current));
  }, [stored]);

  useEffect(() => {
    setValues(Object.fromEntries((strategy?.parameters ?? []).map((p) => [p.name, String(p.default)])));
    setErrors({});
  }, [strategy]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!strategy) return;
    const problems: Record<string, string> = {};
    const params: Record<string, unknown> = {};
    for (const p of strategy.parameters) {
      const parsed = parseParameter(p, values[p.name] ?? "");
      if (parsed.error) problems[p.name] = `must be ${parsed.error}`;
      else params[p.name] = parsed.value;
    }
    if (!/^\d+[smhd]$/.test(interval)) problems.interval = "like 1m, 5m or 1h";
    const { settings, errors: costProblems } = settingsOf(costs, !!stored);
    Object.assign(problems, costProblems);
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      await unwrap(
        api.POST("/api/backtests", {
          body: { strategy: strategy.name, interval, params: JSON.stringify(params), symbol, settings: JSON.stringify(settings) },
          bodySerializer: (body) => {
            const form = new FormData();
            for (const [key, value] of Object.entries(body)) if (value !== undefined && value !== null) form.set(key, String(value));
            if (file) form.set("file", file);
            return form;
          },
        }),
      );
      onLaunched();
    } catch (error) {
      setErrors({ form: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate data-testid="backtest-form">
      <div className="row">
        <label>
          Strategy
          <select value={name} onChange={(e) => setName(e.target.value)}>
            {strategies.map((s) => (
              <option key={s.name}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          Symbol (stored 1s bars)
          <input value={symbol} onChange={(e) => setSymbol(e.target.value)} />
        </label>
        <label>
          Interval
          <input value={interval} onChange={(e) => setInterval(e.target.value)} aria-invalid={!!errors.interval} />
          {errors.interval && <span className="field-error">{errors.interval}</span>}
        </label>
        <label>
          Or a 1-second OHLCV CSV
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
      </div>
      <fieldset className="costs" data-testid="backtest-costs">
        <legend>Contract and costs</legend>
        {stored ? (
          <p className="dim" data-testid="stored-instrument">
            {stored.symbol} is a stored instrument: the backtest prices with it as it is (multiplier {stored.multiplier}, tick {stored.tick_size ?? "—"}) and never changes it.{" "}
            <Link to="/instruments">Change it on the Instruments page</Link> (that re-prices its {stored.trade_count} trades).
          </p>
        ) : (
          <p className="dim">A new symbol: the backtest creates its instrument with this multiplier and tick size.</p>
        )}
        <div className="row">
          {COST_FIELDS.map(([field, text, unit, help]) => (
            <label key={field} title={help}>
              {text} <span className="dim">({unit})</span>
              <input
                name={field}
                inputMode="decimal"
                value={costs[field]}
                readOnly={!!stored && (field === "multiplier" || field === "tick_size")}
                onChange={(e) => setCosts({ ...costs, [field]: e.target.value })}
                aria-invalid={!!errors[field]}
              />
              <span className="hint">{help}</span>
              {errors[field] && <span className="field-error">{errors[field]}</span>}
            </label>
          ))}
        </div>
      </fieldset>
      {strategy && <p className="dim">{strategy.description}</p>}
      <div className="row">
        {strategy?.parameters.map((p) => (
          <label key={p.name} title={p.description}>
            {p.name}
            {p.choices?.length ? (
              <select value={values[p.name] ?? ""} onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}>
                {p.choices.map((c) => (
                  <option key={String(c)}>{String(c)}</option>
                ))}
              </select>
            ) : p.type === "bool" ? (
              <select value={values[p.name] ?? "false"} onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}>
                <option>true</option>
                <option>false</option>
              </select>
            ) : (
              <input
                name={p.name}
                value={values[p.name] ?? ""}
                type={p.type === "str" ? "text" : "number"}
                step={p.step ?? "any"}
                min={p.minimum ?? undefined}
                max={p.maximum ?? undefined}
                onChange={(e) => setValues({ ...values, [p.name]: e.target.value })}
                aria-invalid={!!errors[p.name]}
              />
            )}
            {errors[p.name] && <span className="field-error" role="alert">{errors[p.name]}</span>}
          </label>
        ))}
      </div>
      {errors.form && <p className="error" role="alert">{errors.form}</p>}
      <button className="primary" type="submit" disabled={busy || !strategy}>
        Launch backtest
      </button>
    </form>
  );
}
