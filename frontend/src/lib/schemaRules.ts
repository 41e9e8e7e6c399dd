// Client-side checks taken from the backend's own OpenAPI schema (fetched from
// /openapi.json), so a form refuses exactly what the API would refuse, with the
// API's limits, before a request is sent. The server's 422 remains the authority.

type Json = Record<string, unknown>;
export interface OpenApiDoc {
  components: { schemas: Record<string, Json> };
}

function deref(doc: OpenApiDoc, schema: Json): Json {
  let current = schema;
  for (let i = 0; i < 10 && typeof current.$ref === "string"; i++) {
    const name = (current.$ref as string).split("/").pop()!;
    current = doc.components.schemas[name] ?? {};
  }
  return current;
}

/** The schema of a dotted property path (`hyperparameters.gamma`) under a component. */
export function propertySchema(doc: OpenApiDoc, component: string, path: string): Json | undefined {
  let schema: Json | undefined = doc.components.schemas[component];
  for (const part of path.split(".")) {
    if (!schema) return undefined;
    schema = deref(doc, schema);
    const props = schema.properties as Record<string, Json> | undefined;
    schema = props?.[part];
  }
  return schema ? deref(doc, schema) : undefined;
}

function variants(doc: OpenApiDoc, schema: Json): Json[] {
  const anyOf = schema.anyOf as Json[] | undefined;
  return anyOf ? anyOf.map((s) => deref(doc, s)) : [schema];
}

/** What is wrong with `value` for `schema`, or null. Covers what forms use: numbers,
 * integers, enums, arrays (length and items), booleans, strings' length. */
export function problem(doc: OpenApiDoc, schema: Json, value: unknown): string | null {
  const options = variants(doc, schema);
  if (value === null || value === undefined) {
    return options.some((s) => s.type === "null") || !("type" in options[0]) ? null : "required";
  }
  const problems = options.filter((s) => s.type !== "null").map((s) => check(doc, s, value));
  return problems.includes(null) ? null : (problems[0] ?? null);
}

function check(doc: OpenApiDoc, s: Json, value: unknown): string | null {
  if (Array.isArray(s.enum) && !s.enum.includes(value)) return `must be one of ${s.enum.join(", ")}`;
  switch (s.type) {
    case "integer":
    case "number": {
      if (typeof value !== "number" || Number.isNaN(value)) return "must be a number";
      if (s.type === "integer" && !Number.isInteger(value)) return "must be a whole number";
      if (typeof s.minimum === "number" && value < s.minimum) return `must be ≥ ${s.minimum}`;
      if (typeof s.maximum === "number" && value > s.maximum) return `must be ≤ ${s.maximum}`;
      if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
      if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum) return `must be < ${s.exclusiveMaximum}`;
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "string":
      if (typeof value !== "string") return "must be text";
      if (typeof s.minLength === "number" && value.length < s.minLength) return `needs at least ${s.minLength} characters`;
      if (typeof s.maxLength === "number" && value.length > s.maxLength) return `at most ${s.maxLength} characters`;
      return null;
    case "array": {
      if (!Array.isArray(value)) return "must be a list";
      if (typeof s.minItems === "number" && value.length < s.minItems) return `needs at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`;
      if (typeof s.maxItems === "number" && value.length > s.maxItems) return `at most ${s.maxItems} items`;
      if (s.items) {
        for (const item of value) {
          const inner = problem(doc, s.items as Json, item);
          if (inner) return `${JSON.stringify(item)}: ${inner}`;
        }
      }
      return null;
    }
    default:
      return null;
  }
}

/** Checks each dotted path of `values` against `component`; returns problems by path. */
export function validate(doc: OpenApiDoc, component: string, values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, value] of Object.entries(values)) {
    const schema = propertySchema(doc, component, path);
    if (!schema) continue;
    const issue = problem(doc, schema, value);
    if (issue) out[path] = issue;
  }
  return out;
}

/** `{"a.b": 1, "a.c": 2, d: 3}` → `{a: {b: 1, c: 2}, d: 3}`, leaving out undefined values. */
export function nest(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const parts = path.split(".");
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

let cachedDoc: Promise<OpenApiDoc> | null = null;
export function loadOpenApi(): Promise<OpenApiDoc> {
  cachedDoc ??= fetch("/openapi.json").then((r) => {
    if (!r.ok) throw new Error(`could not read the API schema (HTTP ${r.status})`);
    return r.json() as Promise<OpenApiDoc>;
  });
  cachedDoc.catch(() => (cachedDoc = null));
  return cachedDoc;
}
