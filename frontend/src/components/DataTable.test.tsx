import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DataTable, ROW_HEIGHT, formatSort, nextSort, parseSort, visibleRange, type Column } from "./DataTable";

afterEach(cleanup);

interface Row {
  id: number;
  pnl: number;
}
const rows: Row[] = [
  { id: 1, pnl: 10 },
  { id: 2, pnl: -5 },
  { id: 3, pnl: 7 },
];
const columns: Column<Row>[] = [
  { key: "id", header: "Id", render: (r) => r.id },
  { key: "net_pnl", header: "PnL", render: (r) => r.pnl, sortable: true },
];

describe("sort helpers", () => {
  it("round-trips the API's sort parameter", () => {
    expect(parseSort("-net_pnl")).toEqual({ key: "net_pnl", descending: true });
    expect(formatSort({ key: "entry_ts", descending: false })).toBe("entry_ts");
  });
  it("flips the sorted column, sorts a new one descending", () => {
    expect(nextSort({ key: "net_pnl", descending: true }, "net_pnl")).toEqual({ key: "net_pnl", descending: false });
    expect(nextSort({ key: "net_pnl", descending: false }, "mfe")).toEqual({ key: "mfe", descending: true });
  });
});

describe("DataTable", () => {
  it("moves between rows with the arrow keys and opens with Enter", () => {
    const onOpen = vi.fn();
    render(<DataTable columns={columns} rows={rows} rowKey={(r) => r.id} onOpen={onOpen} />);
    const bodyRows = screen.getAllByRole("row").slice(1);
    bodyRows[0].focus();
    fireEvent.keyDown(bodyRows[0], { key: "ArrowDown" });
    expect(document.activeElement).toBe(bodyRows[1]);
    fireEvent.keyDown(bodyRows[1], { key: "End" });
    expect(document.activeElement).toBe(bodyRows[2]);
    fireEvent.keyDown(bodyRows[2], { key: "ArrowUp" });
    expect(document.activeElement).toBe(bodyRows[1]);
    fireEvent.keyDown(bodyRows[1], { key: "Enter" });
    expect(onOpen).toHaveBeenCalledWith(rows[1]);
  });

  it("sorts through header buttons and says so with aria-sort", () => {
    const onSort = vi.fn();
    render(<DataTable columns={columns} rows={rows} rowKey={(r) => r.id} sort={{ key: "net_pnl", descending: true }} onSort={onSort} />);
    const header = screen.getByRole("columnheader", { name: /PnL/ });
    expect(header.getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(screen.getByRole("button", { name: /PnL/ }));
    expect(onSort).toHaveBeenCalledWith({ key: "net_pnl", descending: false });
  });

  it("says when there is nothing to show", () => {
    render(<DataTable columns={columns} rows={[]} rowKey={(r) => r.id} empty="No trades match." />);
    expect(screen.getByText("No trades match.")).toBeTruthy();
  });
});

describe("virtualised DataTable", () => {
  const many: Row[] = Array.from({ length: 20_000 }, (_, i) => ({ id: i + 1, pnl: i }));

  it("draws only the rows in view of a 20,000-row list, with spacers for the rest", () => {
    render(<DataTable testId="big" columns={columns} rows={many} rowKey={(r) => r.id} />);
    const drawn = screen.getByTestId("big").querySelectorAll("tbody tr[tabindex='0']");
    const [first, last] = visibleRange(0, 600, many.length);
    expect(drawn.length).toBe(last - first);
    expect(drawn.length).toBeLessThan(60);
    const after = screen.getByTestId("big").querySelector("tbody tr.spacer:last-child") as HTMLElement;
    expect(after.style.height).toBe(`${(many.length - last) * ROW_HEIGHT}px`);
  });

  it("computes the window for a scroll position", () => {
    expect(visibleRange(0, 330, 20_000, 33)).toEqual([0, 20]);
    expect(visibleRange(33_000, 330, 20_000, 33)).toEqual([990, 1020]);
    expect(visibleRange(659_670, 330, 20_000, 33)).toEqual([19_980, 20_000]); // scrolled to the end
  });

  it("keeps the keyboard working past the drawn rows (End goes to the last trade)", () => {
    const onOpen = vi.fn();
    render(<DataTable testId="big" columns={columns} rows={many} rowKey={(r) => r.id} onOpen={onOpen} />);
    const firstRow = screen.getByTestId("big").querySelector("tbody tr[data-index='0']") as HTMLElement;
    firstRow.focus();
    fireEvent.keyDown(firstRow, { key: "End" });
    const lastRow = screen.getByTestId("big").querySelector("tbody tr[data-index='19999']") as HTMLElement;
    expect(lastRow).toBeTruthy();
    expect(document.activeElement).toBe(lastRow);
    fireEvent.keyDown(lastRow, { key: "Enter" });
    expect(onOpen).toHaveBeenCalledWith(many[19_999]);
  });

  it("leaves a click on a link inside a row to the link (one history entry)", () => {
    const onOpen = vi.fn();
    const linked: Column<Row>[] = [{ key: "id", header: "Id", render: (r) => <a href={`#${r.id}`}>{r.id}</a> }];
    render(<DataTable columns={linked} rows={rows} rowKey={(r) => r.id} onOpen={onOpen} />);
    fireEvent.click(screen.getByText("2"));
    expect(onOpen).not.toHaveBeenCalled();
    fireEvent.click(screen.getAllByRole("row")[2]);
    expect(onOpen).toHaveBeenCalledWith(rows[1]);
  });
});
