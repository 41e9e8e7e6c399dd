import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { DemoData } from "../components/DemoData";
import { Webhooks } from "../components/Webhooks";
import { ErrorNote } from "../components/Layout";
import { DEFAULT_SCOPES, EXPIRY_CHOICES, expiryBody, isExpired, orderedScopes, SCOPES, type ExpiryChoice, type Scope } from "../lib/apiKeys";
import { useAuth } from "../lib/auth";
import { dateTime } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { exporterSnippet, installLine } from "../lib/snippet";

type Key = Schemas["ApiKeyRead"];
type User = Schemas["UserRead"];

const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf: (k: string) => string[] }).supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "Europe/London", "America/New_York", "America/Chicago", "Asia/Tokyo"];
  }
})();

export default function Settings() {
  const { user } = useAuth();
  return (
    <div className="page">
      <h1>Settings</h1>
      <ApiKeys />
      <Webhooks />
      <DemoData />
      <Preferences />
      {user?.role === "ADMIN" && <Users />}
    </div>
  );
}

function ApiKeys() {
  const keys = useLoad((signal) => unwrap(api.GET("/api/auth/api-keys", { signal })), []);
  // The SDK wheel this server serves; without it the snippet installs from the package index.
  const sdk = useLoad((signal) => unwrap(api.GET("/api/downloads/sdk", { signal })).catch(() => null), []);
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string>();
  const [scopes, setScopes] = useState<Set<Scope>>(() => new Set(DEFAULT_SCOPES));
  const [expiry, setExpiry] = useState<ExpiryChoice>("never");
  const [expiryDate, setExpiryDate] = useState("");
  const [created, setCreated] = useState<Schemas["ApiKeyCreated"] | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [error, setError] = useState<Error>();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setNameError("name the key (e.g. the platform or machine it runs on)");
    if (scopes.size === 0) return setNameError("tick at least one scope (ingest is all an exporter needs)");
    const expires = expiryBody(expiry, expiryDate);
    if (typeof expires === "string") return setNameError(expires);
    setNameError(undefined);
    try {
      const body = { name: name.trim(), scopes: orderedScopes(scopes), ...expires };
      setCreated(await unwrap(api.POST("/api/auth/api-keys", { body })));
      setName("");
      setScopes(new Set(DEFAULT_SCOPES));
      setExpiry("never");
      setExpiryDate("");
      keys.reload();
    } catch (e) {
      setNameError(e instanceof Error ? e.message : String(e));
    }
  };
  const revoke = async (key: Key) => {
    if (!window.confirm(`Revoke "${key.name}"? Exporters using it stop being accepted.`)) return;
    try {
      await unwrap(api.DELETE("/api/auth/api-keys/{key_id}", { params: { path: { key_id: key.id } } }));
      keys.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const toggle = (scope: Scope, on: boolean) =>
    setScopes((current) => {
      const next = new Set(current);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied(null);
    }
  };

  const columns: Column<Key>[] = [
    { key: "name", header: "Name", render: (k) => k.name },
    { key: "prefix", header: "Key", render: (k) => <code>{k.prefix}…</code> },
    { key: "scopes", header: "Scopes", render: (k) => <span data-testid="key-scopes">{k.scopes.join(", ")}</span> },
    { key: "created", header: "Created", render: (k) => dateTime(k.created_at) },
    { key: "used", header: "Last used", render: (k) => (k.last_used_at ? dateTime(k.last_used_at) : <span className="dim">never</span>) },
    {
      key: "expires",
      header: "Expires",
      render: (k) =>
        !k.expires_at ? <span className="dim">never</span> : isExpired(k.expires_at) ? <span className="neg">expired {dateTime(k.expires_at)}</span> : dateTime(k.expires_at),
    },
    {
      key: "state",
      header: "",
      render: (k) =>
        k.revoked_at ? (
          <span className="dim">revoked {dateTime(k.revoked_at)}</span>
        ) : (
          <button className="danger" onClick={(e) => (e.stopPropagation(), void revoke(k))} aria-label={`Revoke ${k.name}`}>
            Revoke
          </button>
        ),
    },
  ];
  const snippet = created ? exporterSnippet(location.origin, created.key, created.name, sdk.data ?? null) : "";

  return (
    <section className="panel">
      <h2>API keys</h2>
      <p className="dim">
        Exporters push fills with an API key. Give a key only what it needs: a key on a trading desk that can only ingest cannot read your journal if it leaks. The secret is shown once, right after you create it.
      </p>
      <form onSubmit={create} noValidate data-testid="key-form">
        <fieldset className="scope-picker" data-testid="key-scopes-picker">
          <legend>What the key may do</legend>
          {(Object.entries(SCOPES) as [Scope, string][]).map(([scope, text]) => (
            <label className="check" key={scope}>
              <input type="checkbox" name={`scope-${scope}`} checked={scopes.has(scope)} onChange={(e) => toggle(scope, e.target.checked)} />
              <code>{scope}</code>&nbsp;<span className="dim">— {text}</span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <label>
            Key name
            <input name="key-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!nameError} placeholder="quantower-desk-1" />
          </label>
          <label>
            Expires
            <select name="key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value as ExpiryChoice)}>
              {EXPIRY_CHOICES.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
            </select>
          </label>
          {expiry === "date" && (
            <label>
              Expiry date
              <input type="date" name="key-expiry-date" value={expiryDate} onChange={(e) => setExpiryDate(e.target.value)} />
            </label>
          )}
          <button className="primary" type="submit">
            Create key
          </button>
        </div>
      </form>
      {nameError && (
        <p className="field-error" role="alert">
          {nameError}
        </p>
      )}
      {created && (
        <div className="new-key" data-testid="new-key">
          <p>
            New key <strong>{created.name}</strong> ({created.scopes.join(", ")}
            {created.expires_at ? `, expires ${dateTime(created.expires_at)}` : ""}): copy it now, it will not be shown again.
          </p>
          <div className="row">
            <code className="secret" data-testid="api-key-secret">
              {created.key}
            </code>
            <button onClick={() => void copy(created.key, "key")}>{copied === "key" ? "Copied" : "Copy key"}</button>
          </div>
          <p>
            Push a first run from Python: install the SDK (<code data-testid="sdk-install">{installLine(location.origin, sdk.data ?? null)}</code>
            {sdk.data && <span className="dim"> — version {sdk.data.version}, sha256 {sdk.data.sha256.slice(0, 12)}…</span>}), save this as <code>first_run.py</code> and run it. It
            prints what it sent; the trade then opens on a chart of its bars.
          </p>
          <pre className="raw" data-testid="snippet">{snippet}</pre>
          <div className="row">
            <button onClick={() => void copy(snippet, "snippet")}>{copied === "snippet" ? "Copied" : "Copy snippet"}</button>
            <button onClick={() => setCreated(null)}>Done</button>
          </div>
        </div>
      )}
      <ErrorNote error={keys.error ?? error} />
      <DataTable testId="api-keys" columns={columns} rows={keys.data ?? []} rowKey={(k) => k.id} empty="No API keys yet." />
    </section>
  );
}

function Preferences() {
  const { user, refresh } = useAuth();
  const [zone, setZone] = useState(user?.timezone ?? "UTC");
  const [method, setMethod] = useState(user?.regime_method ?? "rules");
  const [state, setState] = useState<{ error?: string; saved?: boolean }>({});
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await unwrap(api.PATCH("/api/auth/me", { body: { timezone: zone, regime_method: method as "rules" | "gmm" } }));
      await refresh();
      setState({ saved: true });
    } catch (e) {
      setState({ error: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <section className="panel">
      <h2>Preferences</h2>
      <form className="row" onSubmit={save}>
        <label>
          Time zone
          <input name="timezone" list="zones" value={zone} onChange={(e) => setZone(e.target.value)} />
          <datalist id="zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </label>
        <label>
          Regime method
          <select value={method} onChange={(e) => setMethod(e.target.value)}>
            <option value="rules">rules</option>
            <option value="gmm">gmm</option>
          </select>
        </label>
        <button className="primary" type="submit">
          Save
        </button>
        {state.saved && <span className="pos">Saved</span>}
      </form>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
      <p className="dim">Times, the PnL calendar and hour/weekday breakdowns use this time zone.</p>
    </section>
  );
}

function Users() {
  const { user: me } = useAuth();
  const users = useLoad((signal) => unwrap(api.GET("/api/admin/users", { signal })), []);
  const [error, setError] = useState<Error>();
  const update = async (user: User, body: Schemas["UserUpdate"]) => {
    try {
      await unwrap(api.PATCH("/api/admin/users/{user_id}", { params: { path: { user_id: user.id } }, body }));
      setError(undefined);
      users.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const columns: Column<User>[] = [
    { key: "username", header: "User", render: (u) => u.username },
    { key: "created", header: "Created", render: (u) => dateTime(u.created_at) },
    {
      key: "role",
      header: "Role",
      render: (u) => (
        <select value={u.role} disabled={u.id === me?.id} onChange={(e) => void update(u, { role: e.target.value as User["role"] })} aria-label={`role of ${u.username}`}>
          <option value="USER">USER</option>
          <option value="ADMIN">ADMIN</option>
        </select>
      ),
    },
    {
      key: "active",
      header: "Active",
      render: (u) => (
        <input type="checkbox" checked={u.is_active} disabled={u.id === me?.id} onChange={(e) => void update(u, { is_active: e.target.checked })} aria-label={`${u.username} active`} />
      ),
    },
  ];
  return (
    <section className="panel">
      <h2>Users and roles</h2>
      <ErrorNote error={users.error ?? error} />
      <DataTable testId="users" columns={columns} rows={users.data ?? []} rowKey={(u) => u.id} />
    </section>
  );
}
