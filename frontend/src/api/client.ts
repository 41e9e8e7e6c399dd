// The typed API client: paths and bodies come from the generated `schema.d.ts`
// (`npm run gen:api`), so a backend change that breaks a page breaks the build.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

const TOKEN_KEY = "fillbook.token";

let token: string | null = localStorage.getItem(TOKEN_KEY);
const listeners = new Set<(token: string | null) => void>();

export function getToken(): string | null {
  return token;
}

export function setToken(next: string | null): void {
  token = next;
  if (next) localStorage.setItem(TOKEN_KEY, next);
  else localStorage.removeItem(TOKEN_KEY);
  listeners.forEach((listener) => listener(next));
}

export function onTokenChange(listener: (token: string | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const auth: Middleware = {
  onRequest({ request }) {
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ response, request }) {
    // An expired or revoked session: back to the login page (not for the login call itself).
    if (response.status === 401 && token && !request.url.includes("/api/auth/login")) {
      setToken(null);
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** The backend's error body: `{"error": ..., "detail": ...}` (422s add `errors`). */
export interface ApiErrorBody {
  error?: string;
  detail?: string | { msg: string }[];
  errors?: { field: string; problem: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | undefined,
  ) {
    super(describeError(status, body));
  }

  /** Problems by field name (`username`, `password`, `query.limit`), for inline form errors. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of this.body?.errors ?? []) out[item.field] = item.problem;
    return out;
  }
}

export function describeError(status: number, body: ApiErrorBody | undefined): string {
  if (body?.errors?.length) {
    return body.errors.map((e) => `${e.field}: ${e.problem}`).join("; ");
  }
  if (typeof body?.detail === "string") return body.detail;
  if (Array.isArray(body?.detail)) return body.detail.map((d) => d.msg).join("; ");
  return `request failed (HTTP ${status})`;
}

/** Unwraps an openapi-fetch result: the data, or an `ApiError` thrown. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    if (response.ok && response.status === 204) return undefined as T;
    throw new ApiError(response.status, error as ApiErrorBody | undefined);
  }
  return data;
}
