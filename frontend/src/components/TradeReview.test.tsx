import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Schemas } from "../api/client";

type Journal = Schemas["TradeJournalRead"];

const calls: { method: string; path: string; body?: unknown }[] = [];
let answer: Journal;

// The API as the panel sees it: playbooks and mistakes to pick from, PUT echoing `answer`.
vi.mock("../api/client", async (original) => {
  const real = await original<typeof import("../api/client")>();
  const ok = (data: unknown) => Promise.resolve({ data, response: new Response(null, { status: 200 }) });
  const fake = {
    GET: (path: string) => {
      calls.push({ method: "GET", path });
      if (path === "/api/playbooks") return ok([{ id: 7, name: "ORB retest", strategy: null }]);
      if (path === "/api/mistakes") return ok([{ id: 3, name: "moved stop", trades: 0 }, { id: 4, name: "FOMO", trades: 0 }]);
      return ok(null);
    },
    PUT: (path: string, options: { body: unknown }) => {
      calls.push({ method: "PUT", path, body: options.body });
      return ok(answer);
    },
    POST: (path: string, options: { body: unknown }) => {
      calls.push({ method: "POST", path, body: options.body });
      return ok({ id: 9, name: "oversized", trades: 0 });
    },
  };
  return { ...real, api: fake };
});

const { saveJournal, TradeReview } = await import("./TradeReview");

function journal(followed: boolean | null, mistakes: { id: number; name: string }[] = []): Journal {
  return {
    playbook_id: 7,
    playbook_source: "manual",
    review_state: "new",
    reviewed_at: null,
    mistakes,
    rules: [{ rule_id: 11, text: "Entry on a retest", followed }],
    adherence: followed === null ? null : followed ? 1 : 0,
  };
}

function panel(current: Journal, onSaved: (j: Journal) => void = () => {}) {
  return render(
    <MemoryRouter>
      <TradeReview journal={current} save={(body) => saveJournal(5, body).then(onSaved)} />
    </MemoryRouter>,
  );
}

afterEach(() => {
  cleanup();
  calls.length = 0;
});

const puts = () => calls.filter((c) => c.method === "PUT").map((c) => c.body);

describe("TradeReview", () => {
  it("ticks a rule through its three states, one PUT per click", async () => {
    const saved: Journal[] = [];
    const view = panel(journal(null), (j) => saved.push(j));
    const rule = () => screen.getByRole("button", { name: /^Entry on a retest:/ });
    expect(rule().getAttribute("data-tick")).toBe("not ticked");
    expect(screen.getByTestId("adherence").textContent).toBe("— (none ticked)");

    for (const [state, next] of [
      [null, true],
      [true, false],
      [false, null],
    ] as const) {
      answer = journal(next);
      view.rerender(
        <MemoryRouter>
          <TradeReview journal={journal(state)} save={(body) => saveJournal(5, body).then((j) => saved.push(j))} />
        </MemoryRouter>,
      );
      await act(async () => fireEvent.click(rule()));
      await waitFor(() => expect(saved).toHaveLength([true, false, null].indexOf(next) + 1));
    }
    expect(puts()).toEqual([
      { rules: [{ rule_id: 11, followed: true }] },
      { rules: [{ rule_id: 11, followed: false }] },
      { rules: [{ rule_id: 11, followed: null }] },
    ]);
    expect(calls.filter((c) => c.method === "PUT").every((c) => c.path === "/api/trades/{trade_id}/journal")).toBe(true);
  });

  it("shows the state in words and the adherence", () => {
    panel(journal(false));
    expect(screen.getByRole("button", { name: "Entry on a retest: broken" }).getAttribute("data-tick")).toBe("broken");
    expect(screen.getByTestId("adherence").textContent).toBe("0%");
  });

  it("sends the whole new mistake list, and creates a new mistake inline", async () => {
    answer = journal(null, [{ id: 3, name: "moved stop" }]);
    panel(journal(null));
    const box = await screen.findByLabelText("moved stop");
    await act(async () => fireEvent.click(box));
    expect((box as HTMLInputElement).checked).toBe(true);
    fireEvent.change(screen.getByLabelText("New mistake"), { target: { value: "oversized" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Add" })));
    await waitFor(() => expect(puts()).toHaveLength(2));
    expect(calls.find((c) => c.method === "POST")).toEqual({ method: "POST", path: "/api/mistakes", body: { name: "oversized" } });
    expect(puts()).toEqual([{ mistake_ids: [3] }, { mistake_ids: [3, 9] }]);
  });

  it("toggles the review state", async () => {
    answer = { ...journal(null), review_state: "reviewed" };
    panel(journal(null));
    await act(async () => fireEvent.click(screen.getByTestId("review-toggle")));
    expect(puts()).toEqual([{ review_state: "reviewed" }]);
  });
});
