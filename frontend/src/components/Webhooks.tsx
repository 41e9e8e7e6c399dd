import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { DataTable, type Column } from "./DataTable";
import { ErrorNote } from "./Layout";
import { dateTime } from "../lib/format";
import { useLoad } from "../lib/hooks";

type Endpoint = Schemas["WebhookRead"];
type Delivery = Schemas["WebhookDeliveryRead"];
type EventType = Schemas["WebhookEventTypeRead"]["type"];

/** Settings → Webhooks: endpoints, the events each gets, the secret shown once, a test
 * event, the delivery log, and re-enabling an endpoint the sender disabled. */
export function Webhooks() {
  const endpoints = useLoad((signal) => unwrap(api.GET("/api/webhooks", { signal })), []);
  const types = useLoad((signal) => unwrap(api.GET("/api/webhooks/events", { signal })), []);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<Set<EventType>>(() => new Set<EventType>(["run.ended"]));
  const [formError, setFormError] = useState<string>();
  const [secret, setSecret] = useState<{ id: number; url: string; secret: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<Error>();

  const act = async (work: () => Promise<unknown>) => {
    try {
      setError(undefined);
      await work();
      endpoints.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!url.trim()) return setFormError("give the https:// address that should receive the events");
    if (events.size === 0) return setFormError("tick at least one event");
    setFormError(undefined);
    try {
      const created = await unwrap(api.POST("/api/webhooks", { body: { url: url.trim(), events: [...events], description: "", enabled: true } }));
      setSecret({ id: created.id, url: created.url, secret: created.secret });
      setCopied(false);
      setUrl("");
      setSelected(created.id);
      endpoints.reload();
    } catch (e) {
      setFormError(e instanceof Error ? e.message : String(e));
    }
  };
  const path = (endpoint: Endpoint) => ({ params: { path: { webhook_id: endpoint.id } } });
  const rotate = (endpoint: Endpoint) =>
    act(async () => {
      if (!window.confirm(`Rotate the secret of ${endpoint.url}? The old one stops signing at once.`)) return;
      const rotated = await unwrap(api.POST("/api/webhooks/{webhook_id}/rotate-secret", path(endpoint)));
      setSecret({ id: rotated.id, url: rotated.url, secret: rotated.secret });
      setCopied(false);
    });
  const test = (endpoint: Endpoint) =>
    act(async () => {
      await unwrap(api.POST("/api/webhooks/{webhook_id}/test", path(endpoint)));
      setSelected(endpoint.id);
    });
  const setEnabled = (endpoint: Endpoint, enabled: boolean) =>
    act(() => unwrap(api.PATCH("/api/webhooks/{webhook_id}", { ...path(endpoint), body: { enabled } })));
  const remove = (endpoint: Endpoint) =>
    act(async () => {
      if (!window.confirm(`Delete the webhook to ${endpoint.url} and its delivery log?`)) return;
      await unwrap(api.DELETE("/api/webhooks/{webhook_id}", path(endpoint)));
      if (selected === endpoint.id) setSelected(null);
    });
  const toggle = (type: EventType, on: boolean) =>
    setEvents((current) => {
      const next = new Set(current);
      if (on) next.add(type);
      else next.delete(type);
      return next;
    });
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  const columns: Column<Endpoint>[] = [
    { key: "url", header: "URL", render: (e) => <code>{e.url}</code> },
    { key: "events", header: "Events", render: (e) => e.events.join(", ") },
    { key: "secret", header: "Secret", render: (e) => (e.secret_hint ? <code>{e.secret_hint}…</code> : <span className="dim">none</span>) },
    {
      key: "state",
      header: "State",
      render: (e) =>
        e.enabled ? (
          <span data-testid="webhook-state">enabled</span>
        ) : (
          <span className="neg" data-testid="webhook-state" title={e.disabled_reason ?? undefined}>
            disabled{e.disabled_reason ? `: ${e.disabled_reason}` : ""}
          </span>
        ),
    },
    {
      key: "actions",
      header: "",
      render: (e) => (
        <span className="row" onClick={(event) => event.stopPropagation()}>
          <button onClick={() => setSelected(e.id)}>Log</button>
          <button onClick={() => void test(e)} disabled={!e.enabled}>
            Send test event
          </button>
          {e.enabled ? <button onClick={() => void setEnabled(e, false)}>Disable</button> : <button onClick={() => void setEnabled(e, true)}>Enable</button>}
          <button onClick={() => void rotate(e)}>Rotate secret</button>
          <button className="danger" onClick={() => void remove(e)} aria-label={`Delete webhook ${e.url}`}>
            Delete
          </button>
        </span>
      ),
    },
  ];
  const current = endpoints.data?.find((e) => e.id === selected) ?? null;

  return (
    <section className="panel" data-testid="webhooks">
      <h2>Webhooks</h2>
      <p className="dim">
        Fillbook POSTs the events you pick to your HTTPS endpoint, signed with HMAC-SHA256 (see docs/webhooks.md), retries failures with back-off, and disables an endpoint after 5 deliveries in a row fail. The signing secret is shown once.
      </p>
      <form onSubmit={create} noValidate data-testid="webhook-form">
        <fieldset className="scope-picker">
          <legend>Events</legend>
          {(types.data ?? []).map((t) => (
            <label className="check" key={t.type}>
              <input type="checkbox" name={`event-${t.type}`} checked={events.has(t.type)} onChange={(e) => toggle(t.type, e.target.checked)} />
              <code>{t.type}</code>&nbsp;<span className="dim">— {t.description}</span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <label>
            Endpoint URL
            <input name="webhook-url" value={url} onChange={(e) => setUrl(e.target.value)} aria-invalid={!!formError} placeholder="https://hooks.example.com/fillbook" />
          </label>
          <button className="primary" type="submit">
            Add webhook
          </button>
        </div>
      </form>
      {formError && (
        <p className="field-error" role="alert">
          {formError}
        </p>
      )}
      {secret && (
        <div className="new-key" data-testid="webhook-secret-box">
          <p>
            Signing secret of <code>{secret.url}</code>: copy it now, it will not be shown again.
          </p>
          <div className="row">
            <code className="secret" data-testid="webhook-secret">
              {secret.secret}
            </code>
            <button onClick={() => void copy(secret.secret)}>{copied ? "Copied" : "Copy secret"}</button>
            <button onClick={() => setSecret(null)}>Done</button>
          </div>
        </div>
      )}
      <ErrorNote error={endpoints.error ?? error} />
      <DataTable testId="webhook-endpoints" columns={columns} rows={endpoints.data ?? []} rowKey={(e) => e.id} empty="No webhooks yet." />
      {current && <DeliveryLog endpoint={current} />}
    </section>
  );
}

function DeliveryLog({ endpoint }: { endpoint: Endpoint }) {
  const log = useLoad(
    (signal) => unwrap(api.GET("/api/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: endpoint.id } }, signal })),
    [endpoint.id, endpoint.updated_at],
  );
  const columns: Column<Delivery>[] = [
    { key: "created", header: "Created", render: (d) => dateTime(d.created_at) },
    { key: "type", header: "Event", render: (d) => <code>{d.event_type}</code> },
    { key: "status", header: "Status", render: (d) => <span className={d.status === "failed" ? "neg" : d.status === "succeeded" ? "pos" : "dim"}>{d.status}</span> },
    { key: "attempts", header: "Attempts", render: (d) => d.attempts },
    { key: "code", header: "Response", render: (d) => d.response_status ?? <span className="dim">none</span> },
    { key: "error", header: "Error", render: (d) => d.error ?? "" },
    { key: "next", header: "Next attempt", render: (d) => (d.next_attempt_at && d.status === "pending" ? dateTime(d.next_attempt_at) : "") },
  ];
  return (
    <div data-testid="webhook-log">
      <div className="row">
        <h3>Delivery log: {endpoint.url}</h3>
        <button onClick={() => log.reload()}>Refresh</button>
      </div>
      <ErrorNote error={log.error} />
      <DataTable testId="webhook-deliveries" columns={columns} rows={log.data?.items ?? []} rowKey={(d) => d.id} empty="No deliveries yet." />
    </div>
  );
}
