// Accounts: each account's settings, its cash flows and its equity in its own currency
// (starting balance + cash flows + realised and open P&L; a deposit is not profit).
// A total that needs an FX rate nobody gave names the pair and day (docs/accounts.md).
import { useState, type FormEvent } from "react";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorNote } from "../components/Layout";
import { ACCOUNT_TYPES, CASH_KINDS, cashProblems, inCurrency, missingRates, type Account, type CashForm, type MissingRateBody } from "../lib/accounts";
import { dateTime, percent, pnlClass, zonedInstant } from "../lib/format";
import { useLoad } from "../lib/hooks";

type CashFlow = Schemas["CashFlowRead"];
type Equity = Schemas["AccountEquity"];

function accountName(account: Account): string {
  return account.name === "" ? "(default account)" : account.name;
}

export default function Accounts() {
  const accounts = useLoad((signal) => unwrap(api.GET("/api/accounts", { signal })), []);
  const [selected, setSelected] = useState<number | null>(null);
  const chosen = accounts.data?.find((a) => a.id === selected) ?? accounts.data?.[0] ?? null;
  const columns: Column<Account>[] = [
    { key: "name", header: "Account", render: (a) => <strong>{accountName(a)}</strong> },
    { key: "type", header: "Type", render: (a) => a.type },
    { key: "broker", header: "Broker", render: (a) => a.broker ?? <span className="dim">—</span> },
    { key: "currency", header: "Currency", render: (a) => a.base_currency },
    { key: "start", header: "Starting balance", render: (a) => inCurrency(a.starting_balance, a.base_currency), align: "right" },
  ];
  return (
    <div className="page">
      <h1>Accounts</h1>
      <section className="panel">
        <p className="dim">An account is made the first time a fill or cash flow names it. Click one to see its equity and cash flows.</p>
        <ErrorNote error={accounts.error} />
        <DataTable testId="accounts" columns={columns} rows={accounts.data ?? []} rowKey={(a) => String(a.id)} onOpen={(a) => setSelected(a.id)} empty="No accounts yet: they arrive with your first pushed fill." />
      </section>
      {chosen && <AccountDetail key={chosen.id} account={chosen} onChanged={accounts.reload} />}
    </div>
  );
}

function AccountDetail({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const [version, setVersion] = useState(0);
  const equity = useLoad((signal) => unwrap(api.GET("/api/accounts/{account_id}/equity", { params: { path: { account_id: account.id } }, signal })), [account.id, version]);
  const flows = useLoad((signal) => unwrap(api.GET("/api/accounts/{account_id}/cash", { params: { path: { account_id: account.id } }, signal })), [account.id, version]);
  const refresh = () => {
    setVersion((v) => v + 1);
    onChanged();
  };
  const missing = equity.error instanceof ApiError ? missingRates(equity.error.body as MissingRateBody | undefined) : null;
  return (
    <>
      <section className="panel" data-testid="account-equity">
        <h2>{accountName(account)}: equity in {account.base_currency}</h2>
        {missing ? (
          <p className="error" role="alert" data-testid="missing-rates">
            {missing}
          </p>
        ) : (
          <ErrorNote error={equity.error} />
        )}
        {equity.data && <EquitySummary equity={equity.data} />}
      </section>
      <AccountSettings account={account} onSaved={refresh} />
      <CashFlows account={account} flows={flows.data ?? []} error={flows.error} onChanged={refresh} />
      <FxRate onSaved={refresh} />
    </>
  );
}

function EquitySummary({ equity }: { equity: Equity }) {
  const s = equity.summary;
  const c = equity.currency;
  const rows: [string, string, number | null][] = [
    ["Starting balance", inCurrency(s.starting_balance, c), null],
    ["Net cash flow", inCurrency(s.net_cash_flow, c), null],
    ["Realised P&L", inCurrency(s.realised_pnl, c), s.realised_pnl],
    ["Open P&L", inCurrency(s.open_pnl, c), s.open_pnl],
    ["Equity", inCurrency(s.equity, c), null],
    ["Time-weighted return", percent(s.time_weighted_return, 2), s.time_weighted_return],
    ["Max drawdown", percent(s.max_drawdown, 2), s.max_drawdown],
    ["Max drawdown (amount)", inCurrency(s.max_drawdown_amount, c), s.max_drawdown_amount],
  ];
  const points: Column<Equity["curve"][number]>[] = [
    { key: "ts", header: "Time", render: (p) => dateTime(p.ts) },
    { key: "kind", header: "What", render: (p) => p.kind },
    { key: "change", header: "Change", render: (p) => inCurrency(p.change, c), align: "right", className: (p) => pnlClass(p.change) },
    { key: "equity", header: "Equity", render: (p) => inCurrency(p.equity, c), align: "right" },
    { key: "drawdown", header: "Drawdown", render: (p) => percent(p.drawdown, 2), align: "right" },
  ];
  return (
    <>
      <dl className="metrics" data-testid="equity-summary">
        {rows.map(([name, value, sign]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd className={sign === null ? "" : pnlClass(sign)}>{value}</dd>
          </div>
        ))}
      </dl>
      {s.undefined_reason && <p className="dim">Return: {s.undefined_reason}.</p>}
      {s.unmarked_symbols.length > 0 && <p className="dim">No bar yet to mark open trades in {s.unmarked_symbols.join(", ")}.</p>}
      <DataTable testId="equity-curve" columns={points} rows={equity.curve} rowKey={(p) => `${p.ts}-${p.kind}-${p.equity}`} empty="No cash flows or closed trades yet." />
    </>
  );
}

function AccountSettings({ account, onSaved }: { account: Account; onSaved: () => void }) {
  const [form, setForm] = useState({ base_currency: account.base_currency, starting_balance: String(account.starting_balance), broker: account.broker ?? "", type: account.type });
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const balance = Number(form.starting_balance);
    if (!Number.isFinite(balance) || balance < 0) return setError("Starting balance: a number of 0 or more");
    try {
      await unwrap(api.PATCH("/api/accounts/{account_id}", { params: { path: { account_id: account.id } }, body: { base_currency: form.base_currency, starting_balance: balance, broker: form.broker || null, type: form.type } }));
      setError(null);
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section className="panel">
      <h2>Settings</h2>
      <form className="row" onSubmit={(e) => void submit(e)} data-testid="account-form">
        <label>
          Base currency
          <input name="base_currency" value={form.base_currency} onChange={(e) => setForm({ ...form, base_currency: e.target.value.toUpperCase() })} maxLength={3} />
        </label>
        <label>
          Starting balance
          <input name="starting_balance" inputMode="decimal" value={form.starting_balance} onChange={(e) => setForm({ ...form, starting_balance: e.target.value })} />
        </label>
        <label>
          Broker
          <input name="broker" value={form.broker} onChange={(e) => setForm({ ...form, broker: e.target.value })} maxLength={100} />
        </label>
        <label>
          Type
          <select name="type" value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value as Account["type"] })}>
            {ACCOUNT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <button className="primary" type="submit">
          Save
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function CashFlows({ account, flows, error, onChanged }: { account: Account; flows: CashFlow[]; error: Error | undefined; onChanged: () => void }) {
  const [form, setForm] = useState<CashForm>({ kind: "deposit", amount: "", ts: "", currency: "", note: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const found = cashProblems(form);
    const ts = form.ts ? zonedInstant(form.ts) : null;
    if (form.ts && !ts) found.ts = "a date and time";
    setProblems(found);
    if (Object.keys(found).length || !ts) return;
    try {
      await unwrap(api.POST("/api/accounts/{account_id}/cash", { params: { path: { account_id: account.id } }, body: { kind: form.kind, amount: Number(form.amount), ts, currency: form.currency || null, note: form.note || null } }));
      setForm({ ...form, amount: "", note: "" });
      onChanged();
    } catch (e) {
      setProblems({ form: e instanceof Error ? e.message : String(e) });
    }
  };
  const remove = async (flow: CashFlow) => {
    await unwrap(api.DELETE("/api/accounts/{account_id}/cash/{flow_id}", { params: { path: { account_id: account.id, flow_id: flow.id } } }));
    onChanged();
  };
  const columns: Column<CashFlow>[] = [
    { key: "ts", header: "Time", render: (f) => dateTime(f.ts) },
    { key: "kind", header: "Kind", render: (f) => f.kind },
    { key: "amount", header: "Amount", render: (f) => inCurrency(f.amount, f.currency), align: "right" },
    { key: "source", header: "From", render: (f) => f.source },
    { key: "note", header: "Note", render: (f) => f.note ?? "", wrap: true },
    { key: "remove", header: "", render: (f) => <button onClick={(e) => (e.stopPropagation(), void remove(f))} aria-label={`Remove ${f.kind} ${f.flow_id}`}>Remove</button> },
  ];
  return (
    <section className="panel">
      <h2>Cash flows</h2>
      <ErrorNote error={error} />
      <DataTable testId="cash-flows" columns={columns} rows={flows} rowKey={(f) => String(f.id)} empty="No deposits, withdrawals, fees or payouts." />
      <form className="row" onSubmit={(e) => void add(e)} noValidate data-testid="cash-form">
        <label>
          Kind
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as CashForm["kind"] })}>
            {CASH_KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        {(["amount", "ts", "currency", "note"] as const).map((name) => (
          <label key={name}>
            {{ amount: "Amount", ts: "When", currency: "Currency", note: "Note" }[name]}
            <input name={name} type={name === "ts" ? "datetime-local" : "text"} inputMode={name === "amount" ? "decimal" : undefined} value={form[name]} placeholder={name === "currency" ? account.base_currency : undefined} onChange={(e) => setForm({ ...form, [name]: e.target.value })} aria-invalid={!!problems[name]} />
            {problems[name] && <span className="field-error">{problems[name]}</span>}
          </label>
        ))}
        <button type="submit">Add</button>
      </form>
      {problems.form && (
        <p className="error" role="alert">
          {problems.form}
        </p>
      )}
    </section>
  );
}

function FxRate({ onSaved }: { onSaved: () => void }) {
  const [form, setForm] = useState({ base: "", quote: "", day: "", rate: "" });
  const [message, setMessage] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await unwrap(api.PUT("/api/fx-rates", { body: { base: form.base, quote: form.quote, day: form.day, rate: Number(form.rate) } }));
      setMessage(`Saved: 1 ${form.base} = ${form.rate} ${form.quote} on ${form.day}.`);
      onSaved();
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section className="panel">
      <h2>Enter an FX rate</h2>
      <p className="dim">Used where no 1d bar of the pair (e.g. EURUSD) was pushed for the day; a rate entered here wins over the bar.</p>
      <form className="row" onSubmit={(e) => void submit(e)} data-testid="fx-form">
        {(["base", "quote", "day", "rate"] as const).map((name) => (
          <label key={name}>
            {{ base: "Base (EUR)", quote: "Quote (USD)", day: "Day", rate: "Rate" }[name]}
            <input name={name} type={name === "day" ? "date" : "text"} value={form[name]} onChange={(e) => setForm({ ...form, [name]: name === "base" || name === "quote" ? e.target.value.toUpperCase() : e.target.value })} />
          </label>
        ))}
        <button type="submit">Save rate</button>
      </form>
      {message && <p role="status">{message}</p>}
    </section>
  );
}
