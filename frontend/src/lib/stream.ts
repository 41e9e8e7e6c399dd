// One WebSocket to /api/stream per tab, shared by every page. Pages subscribe to
// message types; the socket reconnects with capped exponential back-off plus jitter.

export type StreamMessage = { type: string; run_id?: number; [key: string]: unknown };
type Handler = (message: StreamMessage) => void;
export type StreamState = "connecting" | "open" | "closed";

export interface StreamOptions {
  url: (token: string) => string;
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

export class LiveStream {
  private socket: WebSocket | null = null;
  private handlers = new Set<Handler>();
  private stateHandlers = new Set<(state: StreamState) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private token: string | null = null;
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
    if (!this.token) return;
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const socket = new Impl(this.options.url(this.token));
    this.socket = socket;
    this.setState("connecting");
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
      // 4401: the credential was refused; retrying with it cannot help.
      if (event.code === 4401 || !this.token) return;
      const delay = backoffDelay(
        this.attempt++,
        this.options.baseDelayMs ?? 500,
        this.options.maxDelayMs ?? 15_000,
        this.options.random ?? Math.random,
      );
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  close(): void {
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

export function streamUrl(token: string): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/stream?token=${encodeURIComponent(token)}`;
}

export const liveStream = new LiveStream({ url: streamUrl });
