// One WebSocket to /api/stream per tab, shared by every page. Pages subscribe to
// message types; the socket reconnects with capped exponential back-off plus jitter.
// Each connection opens with a fresh single-use ticket (POST /api/stream/ticket), so the
// login token never travels in a URL (where access logs and proxies would keep it).
import { api } from "../api/client";

export type StreamMessage = { type: string; run_id?: number; [key: string]: unknown };
type Handler = (message: StreamMessage) => void;
export type StreamState = "connecting" | "open" | "closed";

export interface StreamOptions {
  /** The URL to open for `token`: at once, or once fetched (a ticket); StreamRefused: give up. */
  url: (token: string) => string | Promise<string>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  WebSocketImpl?: typeof WebSocket;
}

/** Delay before reconnect attempt `attempt` (0-based): base·2^attempt, capped, ±20 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(raw * (0.8 + 0.4 * random()));
}

/** The credential was refused (401/403): retrying with it cannot help. */
export class StreamRefused extends Error {}

// Close codes after which the same credential cannot succeed: refused (4401), lacks `read` (4403).
const FINAL_CODES = new Set([4401, 4403]);

export class LiveStream {
  private socket: WebSocket | null = null;
  private handlers = new Set<Handler>();
  private stateHandlers = new Set<(state: StreamState) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private token: string | null = null;
  private generation = 0; // bumped by close(): a ticket still being fetched is then dropped
  state: StreamState = "closed";

  constructor(private readonly options: StreamOptions) {}

  /** Connect with `token` (or disconnect for null); a new token reconnects. */
  setToken(token: string | null): void {
    if (token === this.token) return;
    this.token = token;
    this.close();
    this.attempt = 0;
    if (token) this.open();
  }

  subscribe(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onState(handler: (state: StreamState) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  private setState(state: StreamState): void {
    this.state = state;
    this.stateHandlers.forEach((handler) => handler(state));
  }

  private open(): void {
    const token = this.token;
    if (!token) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.token === token;
    this.setState("connecting");
    let target: string | Promise<string>;
    try {
      target = this.options.url(token);
    } catch (error) {
      this.failed(error);
      return;
    }
    if (typeof target === "string") {
      this.connect(target);
      return;
    }
    target.then(
      (url) => current() && this.connect(url),
      (error: unknown) => current() && this.failed(error),
    );
  }

  private failed(error: unknown): void {
    this.setState("closed");
    if (!(error instanceof StreamRefused)) this.retry();
  }

  private retry(): void {
    if (!this.token) return;
    const delay = backoffDelay(
      this.attempt++,
      this.options.baseDelayMs ?? 500,
      this.options.maxDelayMs ?? 15_000,
      this.options.random ?? Math.random,
    );
    this.timer = setTimeout(() => this.open(), delay);
  }

  private connect(url: string): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const socket = new Impl(url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setState("open");
    };
    socket.onmessage = (event: MessageEvent) => {
      let message: StreamMessage;
      try {
        message = JSON.parse(String(event.data)) as StreamMessage;
      } catch {
        return;
      }
      this.handlers.forEach((handler) => handler(message));
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("closed");
      // The credential was refused, revoked or expired, or may not read: retrying cannot help.
      if (FINAL_CODES.has(event.code) || !this.token) return;
      this.retry();
    };
  }

  close(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
    this.setState("closed");
  }
}

/** The stream's URL with a fresh ticket bought with `token` (the login token stays out of it). */
export async function streamUrl(token: string): Promise<string> {
  const { data, response } = await api.POST("/api/stream/ticket", { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401 || response.status === 403) {
    throw new StreamRefused(`the stream ticket was refused (HTTP ${response.status})`);
  }
  if (!response.ok || !data) throw new Error(`no stream ticket (HTTP ${response.status})`);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/stream?ticket=${encodeURIComponent(data.ticket)}`;
}

export const liveStream = new LiveStream({ url: streamUrl });
