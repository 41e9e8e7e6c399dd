import { useCallback, useState } from "react";

/**
 * Cursor paging state: the cursor of each page visited so far, so "previous" needs no
 * offset. `reset()` goes back to the first page (filters or sort changed).
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  const cursor = cursors[page];
  const next = useCallback((nextCursor: string | null | undefined) => {
    if (nextCursor) setCursors((list) => [...list, nextCursor]);
  }, []);
  const previous = useCallback(() => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)), []);
  const reset = useCallback(() => setCursors([null]), []);
  return { page, cursor, next, previous, reset };
}

/**
 * Cursor paging held in the URL (`?p=` the cursors of the pages visited, `.`-joined; a
 * cursor is base64url, which never holds a dot), so a reload or Back comes to the same
 * page. Filters changed through `setFilter` go back to the first page; every change
 * replaces the history entry, so Back leaves the list in one press.
 */
export function useUrlPages(params: URLSearchParams, setParams: (next: URLSearchParams, options: { replace: boolean }) => void) {
  const cursors = (params.get("p") ?? "").split(".").filter(Boolean);
  const page = cursors.length;
  const cursor = cursors[page - 1] ?? null;
  const write = (change: (next: URLSearchParams) => void) => {
    const next = new URLSearchParams(params);
    change(next);
    setParams(next, { replace: true });
  };
  const go = (list: string[]) => write((next) => (list.length ? next.set("p", list.join(".")) : next.delete("p")));
  return {
    page,
    cursor,
    next: (nextCursor: string | null | undefined) => nextCursor && go([...cursors, nextCursor]),
    previous: () => go(cursors.slice(0, -1)),
    setFilter: (name: string, value: string) =>
      write((next) => {
        if (value) next.set(name, value);
        else next.delete(name);
        next.delete("p");
      }),
  };
}
