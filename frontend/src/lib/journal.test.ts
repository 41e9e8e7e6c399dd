import { describe, expect, it } from "vitest";
import {
  adherenceOf,
  filenameHeader,
  imageFiles,
  imageProblem,
  isDay,
  isTyping,
  monthDays,
  move,
  nextTick,
  nextUnreviewedQuery,
  reviewKey,
  shiftMonth,
  tickLabel,
  today,
} from "./journal";

describe("rule ticks in three states", () => {
  it("cycles not ticked → followed → broken → not ticked", () => {
    expect(nextTick(null)).toBe(true);
    expect(nextTick(true)).toBe(false);
    expect(nextTick(false)).toBeNull();
    expect([null, true, false].map((t) => tickLabel(t))).toEqual(["not ticked", "followed", "broken"]);
  });

  it("counts adherence over the ticked rules only", () => {
    expect(adherenceOf([true, false, null, true])).toBeCloseTo(2 / 3, 12);
    expect(adherenceOf([null, null])).toBeNull();
    expect(adherenceOf([false])).toBe(0);
  });
});

describe("review keys", () => {
  const field = (tag: string) => document.createElement(tag);

  it("n goes to the next unreviewed trade, r marks this one reviewed", () => {
    expect(reviewKey({ key: "n", target: document.body })).toBe("next");
    expect(reviewKey({ key: "r", target: document.body })).toBe("review");
    expect(reviewKey({ key: "N", target: document.body })).toBe("next");
    expect(reviewKey({ key: "x", target: document.body })).toBeNull();
  });

  it("does nothing while typing or with a modifier (Ctrl+R reloads, Ctrl+N opens a window)", () => {
    for (const tag of ["input", "textarea", "select"]) expect(reviewKey({ key: "r", target: field(tag) })).toBeNull();
    const editable = field("div");
    editable.setAttribute("contenteditable", "true");
    const inside = field("span");
    editable.appendChild(inside);
    expect(isTyping(inside)).toBe(true);
    expect(reviewKey({ key: "n", target: inside })).toBeNull();
    expect(reviewKey({ key: "r", ctrlKey: true, target: document.body })).toBeNull();
    expect(reviewKey({ key: "n", metaKey: true, target: document.body })).toBeNull();
    expect(reviewKey({ key: "n", altKey: true, target: document.body })).toBeNull();
    expect(reviewKey({ key: "n", target: field("button") })).toBe("next");
    expect(reviewKey({ key: "n", target: null })).toBe("next");
  });
});

describe("images before an upload", () => {
  it("takes PNG, JPEG and WebP up to 10 MiB and names the file and the limit otherwise", () => {
    expect(imageProblem({ name: "a.png", type: "image/png", size: 1000 })).toBeNull();
    expect(imageProblem({ name: "a.webp", type: "image/webp", size: 10 * 1024 * 1024 })).toBeNull();
    expect(imageProblem({ name: "a.gif", type: "image/gif", size: 10 })).toBe("a.gif: image/gif is not an image the journal takes (PNG, JPEG or WebP)");
    expect(imageProblem({ name: "big.jpg", type: "image/jpeg", size: 11 * 1024 * 1024 })).toBe("big.jpg: 11.0 MiB is over the 10 MiB limit");
    expect(imageProblem({ name: "", type: "", size: 1 })).toBe("the pasted image: an unknown type is not an image the journal takes (PNG, JPEG or WebP)");
  });

  it("keeps the image files of a paste or drop", () => {
    const files = [new File(["x"], "a.png", { type: "image/png" }), new File(["x"], "a.txt", { type: "text/plain" })];
    expect(imageFiles(files).map((f) => f.name)).toEqual(["a.png"]);
    expect(imageFiles(null)).toEqual([]);
  });

  it("sends a file name only where a header can hold it", () => {
    expect(filenameHeader(" chart.png ")).toBe("chart.png");
    expect(filenameHeader("graphique-été.png")).toBeNull();
    expect(filenameHeader("")).toBeNull();
    expect(filenameHeader("x".repeat(250))).toHaveLength(200);
  });
});

describe("checklist and months", () => {
  it("moves a rule up and down, never out of the list", () => {
    expect(move(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(move(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    const list = ["a", "b"];
    expect(move(list, 0, -1)).toBe(list);
    expect(move(list, 1, 1)).toBe(list);
  });

  it("walks months across years and lays a month out Monday first", () => {
    expect(shiftMonth("2024-01", -1)).toBe("2023-12");
    expect(shiftMonth("2023-12", 1)).toBe("2024-01");
    const feb = monthDays("2024-02"); // 1 February 2024 was a Thursday
    expect(feb.cells.slice(0, 4)).toEqual([null, null, null, "2024-02-01"]);
    expect(feb.cells).toHaveLength(3 + 29);
    expect([feb.first, feb.last]).toEqual(["2024-02-01", "2024-02-29"]);
  });

  it("knows today in the user's zone", () => {
    const instant = new Date("2024-01-03T03:00:00Z");
    expect(today("America/New_York", instant)).toBe("2024-01-02");
    expect(today("Europe/Berlin", instant)).toBe("2024-01-03");
    expect(isDay("2024-01-03")).toBe(true);
    expect(isDay("2024-1-3")).toBe(false);
    expect(isDay(undefined)).toBe(false);
  });
});

describe("nextUnreviewedQuery", () => {
  it("keeps the opening list's filters but its review filter, and asks after this trade", () => {
    const state = { listQuery: { run_id: 7, symbol: "MES", review: "reviewed", tag: undefined, start: "2024-01-02T05:00:00Z" } };
    expect(nextUnreviewedQuery(state, 41)).toEqual({ run_id: 7, symbol: "MES", start: "2024-01-02T05:00:00Z", after: 41 });
  });
  it("asks across every trade when the page was not opened from a list", () => {
    expect(nextUnreviewedQuery(null, 3)).toEqual({ after: 3 });
    expect(nextUnreviewedQuery({ other: 1 }, 3)).toEqual({ after: 3 });
    expect(nextUnreviewedQuery({ listQuery: { symbol: { nested: 1 } } }, 3)).toEqual({ after: 3 });
  });
});
