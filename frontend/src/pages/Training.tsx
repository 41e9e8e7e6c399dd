// Training: start a job on a run (the form checks values against the API's own schema
// first), follow jobs live over the stream, see learning curves, download artifacts.
import { lazy, Suspense, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorNote, Loading } from "../components/Layout";
import { RunPicker } from "./Executions";
import { download } from "../lib/download";
import { dateTime, num, percent } from "../lib/format";
import { useLoad, useStream } from "../lib/hooks";
import { loadOpenApi, nest, validate, type OpenApiDoc } from "../lib/schemaRules";

const SeriesChart = lazy(() => import("../components/Charts").then((m) => ({ default: m.SeriesChart })));

type Job = Schemas["TrainingJobRead"];
const FEATURES = ["returns", "range", "volume", "regime", "signal", "position"] as const;
const ACTIVATIONS = ["relu", "tanh", "elu", "gelu", "selu", "swish"] as const;
const ACTION_SETS = ["flat_long_short", "flat_long", "skip_take"] as const;

interface Fields {
  symbol: string;
  timeframe: string;
  hidden_layers: string;
  activation: string;
  dueling: boolean;
  steps: string;
  gamma: string;
  learning_rate: string;
  batch_size: string;
  learning_starts: string;
  target_update_period: string;
  seed: string;
  window: string;
  features: string[];
  action_set: string;
  cost_bps: string;
  test_fraction: string;
}

const DEFAULTS: Fields = {
  symbol: "",
  timeframe: "",
  hidden_layers: "64, 64",
  activation: "relu",
  dueling: true,
  steps: "20000",
  gamma: "0.99",
  learning_rate: "0.001",
  batch_size: "64",
  learning_starts: "500",
  target_update_period: "500",
  seed: "0",
  window: "16",
  features: ["returns", "range", "position"],
  action_set: "flat_long_short",
  cost_bps: "1",
  test_fraction: "0.3",
};

const toNumber = (text: string): number => (text.trim() === "" ? NaN : Number(text));

/** The form's fields as the API's dotted paths (what `validate` and `nest` take). */
export function trainingValues(f: Fields): Record<string, unknown> {
  return {
    symbol: f.symbol.trim() || undefined,
    timeframe: f.timeframe.trim() || undefined,
    "model_architecture.hidden_layers": f.hidden_layers.split(",").filter((s) => s.trim()).map((s) => toNumber(s)),
    "model_architecture.activation": f.activation,
    "model_architecture.dueling": f.dueling,
    "hyperparameters.steps": toNumber(f.steps),
    "hyperparameters.gamma": toNumber(f.gamma),
    "hyperparameters.learning_rate": toNumber(f.learning_rate),
    "hyperparameters.batch_size": toNumber(f.batch_size),
    "hyperparameters.learning_starts": toNumber(f.learning_starts),
    "hyperparameters.target_update_period": toNumber(f.target_update_period),
    "hyperparameters.seed": toNumber(f.seed),
    "environment.window": toNumber(f.window),
    "environment.features": f.features,
    "environment.action_set": f.action_set,
    "environment.cost_bps": toNumber(f.cost_bps),
    "environment.test_fraction": toNumber(f.test_fraction),
  };
}

export default function Training() {
  const [runId, setRunId] = useState<number | null>(null);
  const jobs = useLoad((signal) => unwrap(api.GET("/api/training/jobs", { params: { query: { limit: 100 } }, signal })), []);
  const [openJob, setOpenJob] = useState<number | null>(null);
  useStream(["training_progress"], () => jobs.reload(), 300);

  const columns: Column<Job>[] = [
    { key: "id", header: "#", render: (j) => j.id },
    { key: "run", header: "Run", render: (j) => <Link to={`/runs/${j.run_id}`}>{j.run_id}</Link> },
    { key: "status", header: "Status", render: (j) => <span className={`status ${j.status}`} data-status={j.status}>{j.status.replace("_", " ")}</span> },
    {
      key: "progress",
      header: "Progress",
      render: (j) => (
        <span className="row" title={percent(j.progress)}>
          <span className="progress" role="progressbar" aria-valuenow={Math.round(j.progress * 100)} aria-valuemin={0} aria-valuemax={100}>
            <span style={{ width: `${Math.round(j.progress * 100)}%` }} />
          </span>
          {percent(j.progress, 0)}
        </span>
      ),
    },
    { key: "trigger", header: "Trigger", render: (j) => j.trigger },
    { key: "created", header: "Started", render: (j) => dateTime(j.created_at) },
    { key: "error", header: "Error", render: (j) => (j.error ? <span className="neg">{j.error}</span> : "") },
    {
      key: "artifacts",
      header: "Artifacts",
      render: (j) => (
        <span className="row">
          {j.artifacts.map((name) => (
            <button
              key={name}
              onClick={(e) => {
                e.stopPropagation();
                void download(null, `/api/training/jobs/${j.id}/artifacts/${name}`, `training-${j.id}-${name}${EXTENSIONS[name] ?? ""}`);
              }}
            >
              {name}
            </button>
          ))}
        </span>
      ),
    },
  ];
  const shown = jobs.data?.jobs.find((j) => j.id === openJob) ?? jobs.data?.jobs[0];

  return (
    <div className="page">
      <h1>Training</h1>
      <section className="panel">
        <h2>Train an agent on a run</h2>
        <StartForm runId={runId} setRunId={setRunId} onStarted={(job) => (setOpenJob(job.id), jobs.reload())} />
      </section>
      <section className="panel">
        <h2>Jobs</h2>
        <ErrorNote error={jobs.error} />
        <DataTable testId="training-jobs" columns={columns} rows={jobs.data?.jobs ?? []} rowKey={(j) => j.id} onOpen={(j) => setOpenJob(j.id)} empty="No training jobs yet." />
      </section>
      {shown && <JobDetail job={shown} />}
    </div>
  );
}

const EXTENSIONS: Record<string, string> = { model: ".keras", log: ".csv", report: ".json", plot: ".png" };

function JobDetail({ job }: { job: Job }) {
  const returns = job.learning_curve.episode_returns.map((p) => ({ x: p.step, return: p.return }));
  const losses = job.learning_curve.losses.map((p) => ({ x: p.step, loss: p.loss }));
  return (
    <section className="panel" data-testid="job-detail">
      <h2>
        Job {job.id} · {job.status}
      </h2>
      <div className="two-col">
        <div>
          <h3>Episode return</h3>
          {returns.length ? (
            <Suspense fallback={<Loading />}>
              <SeriesChart data={returns} series={[{ key: "return", color: "var(--accent)" }]} />
            </Suspense>
          ) : (
            <p className="dim">No episodes finished yet.</p>
          )}
        </div>
        <div>
          <h3>Loss</h3>
          {losses.length ? (
            <Suspense fallback={<Loading />}>
              <SeriesChart data={losses} series={[{ key: "loss", color: "var(--neg)" }]} />
            </Suspense>
          ) : (
            <p className="dim">No training steps yet.</p>
          )}
        </div>
      </div>
      {job.report && (
        <>
          <h3>Report</h3>
          <dl className="metric-list">
            {Object.entries(job.report)
              .filter(([, v]) => typeof v !== "object" || v === null)
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k.replace(/_/g, " ")}</dt>
                  <dd>{typeof v === "number" ? num(v, 4) : String(v)}</dd>
                </div>
              ))}
          </dl>
          <details>
            <summary>Full report</summary>
            <pre className="raw">{JSON.stringify(job.report, null, 2)}</pre>
          </details>
        </>
      )}
    </section>
  );
}

function StartForm({ runId, setRunId, onStarted }: { runId: number | null; setRunId: (id: number | null) => void; onStarted: (job: Job) => void }) {
  const [fields, setFields] = useState<Fields>(DEFAULTS);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [doc, setDoc] = useState<OpenApiDoc | null>(null);
  useEffect(() => {
    loadOpenApi().then(setDoc, () => setDoc(null));
  }, []);
  const set = <K extends keyof Fields>(key: K, value: Fields[K]) => setFields((f) => ({ ...f, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const values = trainingValues(fields);
    const problems: Record<string, string> = doc ? validate(doc, "TrainingCreate", values) : {};
    if (runId === null) problems.run = "choose a run";
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      const job = await unwrap(
        api.POST("/api/runs/{run_id}/training", {
          params: { path: { run_id: runId! } },
          body: nest(values) as Schemas["TrainingCreate"],
        }),
      );
      onStarted(job);
    } catch (error) {
      if (error instanceof ApiError && error.body?.errors?.length) setErrors(error.fieldErrors());
      else setErrors({ form: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };

  const input = (key: keyof Fields, path: string, label: string, type = "number") => (
    <label key={key}>
      {label}
      <input
        name={key}
        type={type}
        step="any"
        value={fields[key] as string}
        onChange={(e) => set(key, e.target.value as never)}
        aria-invalid={!!errors[path]}
      />
      {errors[path] && <span className="field-error" role="alert">{errors[path]}</span>}
    </label>
  );

  return (
    <form className="training-form" onSubmit={submit} noValidate data-testid="training-form">
      <div className="row">
        <RunPicker value={runId} onChange={setRunId} />
        {input("symbol", "symbol", "Symbol (default: most traded)", "text")}
        {input("timeframe", "timeframe", "Timeframe (default: finest)", "text")}
      </div>
      {errors.run && <p className="field-error" role="alert">{errors.run}</p>}
      <fieldset>
        <legend>Model</legend>
        <div className="row">
          {input("hidden_layers", "model_architecture.hidden_layers", "Hidden layers (units, comma-separated)", "text")}
          <label>
            Activation
            <select value={fields.activation} onChange={(e) => set("activation", e.target.value)}>
              {ACTIVATIONS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={fields.dueling} onChange={(e) => set("dueling", e.target.checked)} /> dueling
          </label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Hyper-parameters</legend>
        <div className="row">
          {input("steps", "hyperparameters.steps", "Steps")}
          {input("gamma", "hyperparameters.gamma", "Gamma")}
          {input("learning_rate", "hyperparameters.learning_rate", "Learning rate")}
          {input("batch_size", "hyperparameters.batch_size", "Batch size")}
          {input("learning_starts", "hyperparameters.learning_starts", "Learning starts")}
          {input("target_update_period", "hyperparameters.target_update_period", "Target update period")}
          {input("seed", "hyperparameters.seed", "Seed")}
        </div>
      </fieldset>
      <fieldset>
        <legend>Environment</legend>
        <div className="row">
          {input("window", "environment.window", "Window (bars)")}
          {input("cost_bps", "environment.cost_bps", "Cost (bps)")}
          {input("test_fraction", "environment.test_fraction", "Test fraction")}
          <label>
            Actions
            <select value={fields.action_set} onChange={(e) => set("action_set", e.target.value)}>
              {ACTION_SETS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
        </div>
        <div className="row" role="group" aria-label="Features">
          {FEATURES.map((feature) => (
            <label className="check" key={feature}>
              <input
                type="checkbox"
                checked={fields.features.includes(feature)}
                onChange={(e) => set("features", e.target.checked ? [...fields.features, feature] : fields.features.filter((f) => f !== feature))}
              />
              {feature}
            </label>
          ))}
        </div>
        {errors["environment.features"] && <p className="field-error" role="alert">{errors["environment.features"]}</p>}
        {errors.environment && <p className="field-error" role="alert">{errors.environment}</p>}
        {errors.hyperparameters && <p className="field-error" role="alert">{errors.hyperparameters}</p>}
      </fieldset>
      {errors.form && <p className="error" role="alert">{errors.form}</p>}
      <div className="row">
        <button className="primary" type="submit" disabled={busy}>
          Start training
        </button>
        <button type="button" onClick={() => (setFields(DEFAULTS), setErrors({}))}>
          Reset to defaults
        </button>
      </div>
    </form>
  );
}
