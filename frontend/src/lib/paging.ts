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
