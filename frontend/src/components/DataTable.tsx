// A keyboard-usable table: rows are focusable (Tab into the table, ↑/↓ to move,
// Enter to open), sortable headers are buttons with aria-sort.
import { useRef, type KeyboardEvent, type ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: string;
  render: (row: T) => ReactNode;
  sortable?: boolean;
  align?: "left" | "right";
  className?: (row: T) => string;
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

export function DataTable<T>({ columns, rows, rowKey, onOpen, sort, onSort, empty, caption, testId }: Props<T>) {
  const body = useRef<HTMLTableSectionElement>(null);

  const onKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, row: T) => {
    const target = event.currentTarget;
    if (event.key === "ArrowDown" || event.key === "j") {
      (target.nextElementSibling as HTMLElement | null)?.focus();
      event.preventDefault();
    } else if (event.key === "ArrowUp" || event.key === "k") {
      (target.previousElementSibling as HTMLElement | null)?.focus();
      event.preventDefault();
    } else if (event.key === "Home") {
      (body.current?.firstElementChild as HTMLElement | null)?.focus();
      event.preventDefault();
    } else if (event.key === "End") {
      (body.current?.lastElementChild as HTMLElement | null)?.focus();
      event.preventDefault();
    } else if (event.key === "Enter" && onOpen) {
      onOpen(row);
    }
  };

  return (
    <div className="table-wrap">
      <table className="data" data-testid={testId}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = sort?.key === column.key;
              const ariaSort = sorted ? (sort!.descending ? "descending" : "ascending") : undefined;
              return (
                <th key={column.key} aria-sort={ariaSort} className={column.align === "right" ? "num" : undefined}>
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
            rows.map((row) => (
              <tr
                key={rowKey(row)}
                tabIndex={0}
                className={onOpen ? "clickable" : undefined}
                onClick={onOpen ? () => onOpen(row) : undefined}
                onKeyDown={(event) => onKeyDown(event, row)}
              >
                {columns.map((column) => (
                  <td
                    key={column.key}
                    className={[column.align === "right" ? "num" : "", column.className?.(row) ?? ""].join(" ").trim() || undefined}
                  >
                    {column.render(row)}
                  </td>
                ))}
              </tr>
            ))
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
