import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useBlocker } from "react-router-dom";
import { liveStream, type StreamMessage, type StreamState } from "./stream";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change and whenever `reload()` is called; keeps the last data
 * while reloading so live refreshes do not flash an empty page.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (reason: unknown) => {
        if (controller.signal.aborted) return;
        setError(reason instanceof Error ? reason : new Error(String(reason)));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/**
 * Calls `handler` for stream messages whose type is in `types`, at most once per
 * `throttleMs` (bursts of batches cause one refresh, the last one always runs).
 */
export function useStream(types: string[], handler: (message: StreamMessage) => void, throttleMs = 250): void {
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const key = types.join(",");
  useEffect(() => {
    const wanted = new Set(key.split(","));
    let last = 0;
    let pending: ReturnType<typeof setTimeout> | null = null;
    let latest: StreamMessage | null = null;
    const fire = () => {
      pending = null;
      last = Date.now();
      if (latest) handlerRef.current(latest);
    };
    const unsubscribe = liveStream.subscribe((message) => {
      if (!wanted.has(message.type)) return;
      latest = message;
      const wait = last + throttleMs - Date.now();
      if (wait <= 0 && !pending) fire();
      else if (!pending) pending = setTimeout(fire, Math.max(wait, 0));
    });
    return () => {
      unsubscribe();
      if (pending) clearTimeout(pending);
    };
  }, [key, throttleMs]);
}

const subscribeState = (changed: () => void) => {
  const unsubscribe = liveStream.onState(changed);
  return () => void unsubscribe();
};

/** The live stream's state, never stale: a change between render and subscription counts. */
export function useStreamState(): StreamState {
  return useSyncExternalStore(subscribeState, () => liveStream.state);
}

export function useLocalStorage(key: string, initial: string): [string, (value: string) => void] {
  const [value, setValue] = useState(() => localStorage.getItem(key) ?? initial);
  const set = useCallback(
    (next: string) => {
      localStorage.setItem(key, next);
      setValue(next);
    },
    [key],
  );
  return [value, set];
}

/**
 * While `dirty`, asks before anything loses the work: a link or Back inside the app
 * (a confirm; Cancel stays) and closing or reloading the tab (the browser's own prompt).
 */
export function useUnsavedWarning(dirty: boolean, message: string): { leave: () => void } {
  // Read at navigation time, not at the last render: a page that has just saved (or
  // deleted) and moves on calls `leave()` first, and its own navigation is let through.
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const leaving = useRef(false);
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => !leaving.current && dirtyRef.current && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (blocker.state !== "blocked") return;
    if (window.confirm(message)) blocker.proceed();
    else blocker.reset();
  }, [blocker, message]);
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to show the prompt
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  return { leave: useCallback(() => void (leaving.current = true), []) };
}
