import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, LiveStream, StreamRefused, type StreamMessage } from "./stream";

class FakeSocket {
  static instances: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  close() {
    this.closed = true;
  }
  // test helpers
  open() {
    this.onopen?.();
  }
  receive(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

describe("backoffDelay", () => {
  it("doubles up to the cap, with ±20 % jitter", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 500, 15000, mid))).toEqual([500, 1000, 2000, 4000, 15000]);
    expect(backoffDelay(0, 500, 15000, () => 0)).toBe(400);
    expect(backoffDelay(0, 500, 15000, () => 1)).toBe(600);
  });
});

describe("LiveStream", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.instances = [];
  });
  afterEach(() => vi.useRealTimers());

  const make = () =>
    new LiveStream({
      url: (token) => `ws://test/api/stream?token=${token}`,
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      random: () => 0.5,
      baseDelayMs: 100,
      maxDelayMs: 1000,
    });

  it("delivers messages to subscribers", () => {
    const stream = make();
    const got: StreamMessage[] = [];
    stream.subscribe((m) => got.push(m));
    stream.setToken("t1");
    const socket = FakeSocket.instances[0];
    expect(socket.url).toBe("ws://test/api/stream?token=t1");
    socket.open();
    expect(stream.state).toBe("open");
    socket.receive({ type: "position_derived", run_id: 3 });
    expect(got).toEqual([{ type: "position_derived", run_id: 3 }]);
  });

  it("reconnects with growing delays and resets them after a success", () => {
    const stream = make();
    stream.setToken("t1");
    FakeSocket.instances[0].drop();
    expect(stream.state).toBe("closed");
    vi.advanceTimersByTime(99);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.instances[1].drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
    FakeSocket.instances[2].open();
    FakeSocket.instances[2].drop();
    vi.advanceTimersByTime(100);
    expect(FakeSocket.instances).toHaveLength(4);
  });

  it("does not retry a refused credential, and stops on logout", () => {
    const stream = make();
    stream.setToken("bad");
    FakeSocket.instances[0].drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    stream.setToken("good");
    expect(FakeSocket.instances).toHaveLength(2);
    stream.setToken(null);
    expect(FakeSocket.instances[1].closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("does not retry a stream closed for lacking the read scope", () => {
    const stream = make();
    stream.setToken("ingest-only-key");
    FakeSocket.instances[0].drop(4403);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe("LiveStream with tickets", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.instances = [];
  });
  afterEach(() => vi.useRealTimers());

  const flush = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  const make = (url: (token: string) => Promise<string>) =>
    new LiveStream({ url, WebSocketImpl: FakeSocket as unknown as typeof WebSocket, random: () => 0.5, baseDelayMs: 100, maxDelayMs: 1000 });

  it("buys a fresh ticket for every connection and keeps the token out of the URL", async () => {
    let sold = 0;
    const stream = make(async (token) => {
      expect(token).toBe("secret-token");
      return `ws://test/api/stream?ticket=t${++sold}`;
    });
    stream.setToken("secret-token");
    expect(stream.state).toBe("connecting");
    await flush();
    expect(FakeSocket.instances.map((s) => s.url)).toEqual(["ws://test/api/stream?ticket=t1"]);
    FakeSocket.instances[0].open();
    FakeSocket.instances[0].drop();
    vi.advanceTimersByTime(100);
    await flush();
    expect(FakeSocket.instances.map((s) => s.url)).toEqual(["ws://test/api/stream?ticket=t1", "ws://test/api/stream?ticket=t2"]);
    expect(FakeSocket.instances.some((s) => s.url.includes("secret-token"))).toBe(false);
  });

  it("retries a failed ticket request with back-off, but not a refused one", async () => {
    let calls = 0;
    const outcomes: (() => Promise<string>)[] = [
      () => Promise.reject(new Error("HTTP 503")),
      () => Promise.reject(new StreamRefused("HTTP 401")),
    ];
    const stream = make(() => outcomes[calls++]());
    stream.setToken("t");
    await flush();
    expect(stream.state).toBe("closed");
    vi.advanceTimersByTime(100);
    await flush();
    expect(calls).toBe(2);
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(calls).toBe(2);
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it("drops a ticket that arrives after logout", async () => {
    let sell: (url: string) => void = () => undefined;
    const stream = make(() => new Promise<string>((resolve) => (sell = resolve)));
    stream.setToken("t");
    stream.setToken(null);
    sell("ws://test/api/stream?ticket=late");
    await flush();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(stream.state).toBe("closed");
  });
});

