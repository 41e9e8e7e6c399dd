// A keyboard-usable table: rows are focusable (Tab into the table, ↑/↓ to move,
// Enter to open), sortable headers are buttons with aria-sort. A long list is
// virtualised: only the rows in view (and a few either side) are in the DOM, inside a
// scroll box whose spacer rows keep the scroll bar true. Written here rather than taken
// from a library: rows have one fixed height, so it is a few lines of arithmetic.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: string;
  render: (row: T) => ReactNode;
  sortable?: boolean;
  align?: "left" | "right";
  className?: (row: T) => string;
  /** Long text (a reason, notes) wraps instead of widening the table. */
  wrap?: boolean;
  /** A secondary column, left out at phone width (the row's detail page shows it). */
  phoneHide?: boolean;
}

function cellClass<T>(column: Column<T>): string {
  return [column.align === "right" ? "num" : "", column.wrap ? "wrap" : "", column.phoneHide ? "phone-hide" : ""].filter(Boolean).join(" ");
}

export interface Sort {
  key: string;
  descending: boolean;
}

/** `-net_pnl` ⇄ {key: "net_pnl", descending: true}. */
export function parseSort(text: string): Sort {
  return text.startsWith("-") ? { key: text.slice(1), descending: true } : { key: text, descending: false };
}

export function formatSort(sort: Sort): string {
  return (sort.descending ? "-" : "") + sort.key;
}

/** Clicking the sorted column flips it; another column sorts descending first. */
export function nextSort(current: Sort, key: string): Sort {
  return current.key === key ? { key, descending: !current.descending } : { key, descending: true };
}

/** Rows above which a table is virtualised; the fixed row height (px) it then uses. */
export const VIRTUAL_FROM = 100;
export const ROW_HEIGHT = 33;
const OVERSCAN = 10;

/** The rows [first, last) to draw for a scroll position: those in view plus OVERSCAN each side. */
export function visibleRange(scrollTop: number, viewport: number, count: number, rowHeight = ROW_HEIGHT): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + OVERSCAN);
  return [first, Math.max(first, last)];
}

interface Props<T> {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string | number;
  onOpen?: (row: T) => void;
  sort?: Sort;
  onSort?: (sort: Sort) => void;
  empty?: ReactNode;
  caption?: string;
  testId?: string;
}

/** A click on a link, button or field inside a row is that control's, not the row's:
 * a row that also navigated would push a second history entry (Back twice). */
function onControl(event: MouseEvent): boolean {
  return !!(event.target as Element).closest?.("a, button, input, select, textarea, label");
}

export function DataTable<T>({ columns, rows, rowKey, onOpen, sort, onSort, empty, caption, testId }: Props<T>) {
  const body = useRef<HTMLTableSectionElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const virtual = rows.length > VIRTUAL_FROM;
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [focusIndex, setFocusIndex] = useState<number | null>(null);

  useLayoutEffect(() => {
    const element = box.current;
    if (!virtual || !element) return;
    const measure = () => setViewport(element.clientHeight || 600);
    measure();
    const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
    observer?.observe(element);
    return () => observer?.disconnect();
  }, [virtual]);

  // A new list (filters, sort, page) starts at its top.
  useEffect(() => {
    if (box.current) box.current.scrollTop = 0;
    setScrollTop(0);
  }, [rows]);

  const [first, last] = virtual ? visibleRange(scrollTop, viewport, rows.length) : [0, rows.length];

  // Focus a row moved to by the keyboard once it is drawn.
  useEffect(() => {
    if (focusIndex === null) return;
    const row = body.current?.querySelector<HTMLElement>(`tr[data-index="${focusIndex}"]`);
    if (row) {
      row.focus({ preventScroll: virtual });
      setFocusIndex(null);
    }
  }, [focusIndex, first, last, virtual]);

  const moveTo = (index: number) => {
    const target = Math.max(0, Math.min(rows.length - 1, index));
    const element = box.current;
    if (virtual && element) {
      const top = target * ROW_HEIGHT;
      const header = ROW_HEIGHT; // the sticky header row covers the top of the box
      if (top < element.scrollTop + header) element.scrollTop = Math.max(0, top - header);
      else if (top + ROW_HEIGHT > element.scrollTop + element.clientHeight) element.scrollTop = top + ROW_HEIGHT - element.clientHeight + header;
      setScrollTop(element.scrollTop);
    }
    setFocusIndex(target);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, row: T, index: number) => {
    const moves: Record<string, number> = { ArrowDown: index + 1, j: index + 1, ArrowUp: index - 1, k: index - 1, Home: 0, End: rows.length - 1 };
    if (event.key in moves) {
      moveTo(moves[event.key]);
      event.preventDefault();
    } else if (event.key === "Enter" && onOpen) {
      onOpen(row);
    }
  };

  const spacer = (height: number, key: string) =>
    height > 0 ? (
      <tr key={key} aria-hidden="true" className="spacer" style={{ height }}>
        <td colSpan={columns.length} />
      </tr>
    ) : null;

  return (
    <div
      className={virtual ? "table-wrap virtual" : "table-wrap"}
      ref={box}
      onScroll={virtual ? (event) => setScrollTop(event.currentTarget.scrollTop) : undefined}
      data-rows={rows.length}
    >
      <table className="data" data-testid={testId} aria-rowcount={virtual ? rows.length + 1 : undefined}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = sort?.key === column.key;
              const ariaSort = sorted ? (sort!.descending ? "descending" : "ascending") : undefined;
              return (
                <th key={column.key} aria-sort={ariaSort} className={cellClass(column) || undefined}>
                  {column.sortable && onSort && sort ? (
                    <button className="sort" onClick={() => onSort(nextSort(sort, column.key))}>
                      {column.header}
                      <span aria-hidden="true">{sorted ? (sort.descending ? " ▼" : " ▲") : ""}</span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="dim">
                {empty ?? "Nothing here yet."}
              </td>
            </tr>
          ) : (
            <>
              {spacer(first * ROW_HEIGHT, "before")}
              {rows.slice(first, last).map((row, offset) => {
                const index = first + offset;
                return (
                  <tr
                    key={rowKey(row)}
                    data-index={index}
                    aria-rowindex={virtual ? index + 2 : undefined}
                    tabIndex={0}
                    className={onOpen ? "clickable" : undefined}
                    onClick={onOpen ? (event) => !onControl(event) && onOpen(row) : undefined}
                    onKeyDown={(event) => onKeyDown(event, row, index)}
                  >
                    {columns.map((column) => (
                      <td
                        key={column.key}
                        className={[cellClass(column), column.className?.(row) ?? ""].join(" ").trim() || undefined}
                      >
                        {column.render(row)}
                      </td>
                    ))}
                  </tr>
                );
              })}
              {spacer((rows.length - last) * ROW_HEIGHT, "after")}
            </>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Previous/next over a cursor-paged list; the cursors seen so far are kept for "previous". */
export function Pager({
  page,
  hasNext,
  onPrevious,
  onNext,
}: {
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  return (
    <div className="pager">
      <button onClick={onPrevious} disabled={page === 0}>
        ← Previous
      </button>
      <span className="dim">Page {page + 1}</span>
      <button onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </div>
  );
}
