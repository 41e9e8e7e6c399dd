import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DataTable, formatSort, nextSort, parseSort, type Column } from "./DataTable";

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
