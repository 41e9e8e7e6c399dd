import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, LiveStream, type StreamMessage } from "./stream";

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
});
