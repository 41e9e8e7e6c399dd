import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { CandleChart, type ChartMarker, type PriceLine } from "../components/CandleChart";
import { DataTable, type Column } from "../components/DataTable";
import { Attachments } from "../components/Attachments";
import { ExplainPanel, OrdersPanel } from "../components/TradeOrders";
import { ErrorNote, Loading } from "../components/Layout";
import { saveJournal, TradeReview } from "../components/TradeReview";
import { dateTime, duration, money, num, pnlClass } from "../lib/format";
import { useLoad, useStream, useUnsavedWarning } from "../lib/hooks";
import { nextUnreviewedQuery, reviewKey } from "../lib/journal";

type Fill = Schemas["TradeFillRead"];
type Order = Schemas["TradeOrderRead"];
type Detail = Schemas["TradeDetail"];

const TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"];

/** Every fill as a marker; the first fill is the entry and, for a closed trade, the last is the exit. */
export function tradeMarkers(trade: Pick<Detail, "fills" | "open">): ChartMarker[] {
  return trade.fills.map((fill, index) => {
    const kind: ChartMarker["kind"] = index === 0 ? "entry" : !trade.open && index === trade.fills.length - 1 ? "exit" : "fill";
    const word = kind === "entry" ? "Entry" : kind === "exit" ? "Exit" : fill.side === "buy" ? "Buy" : "Sell";
    return {
      timeSec: Date.parse(fill.ts) / 1000,
      side: fill.side === "buy" ? "buy" : "sell",
      kind,
      text: `${word} ${num(fill.qty)} @ ${num(fill.price, 4)}`,
    };
  });
}

export function excursionLines(trade: Pick<Detail, "direction" | "entry_price" | "exit_price" | "mfe" | "mae" | "initial_stop">): PriceLine[] {
  const sign = trade.direction === "long" ? 1 : -1;
  const lines: PriceLine[] = [{ price: trade.entry_price, title: "entry" }];
  if (trade.exit_price !== null) lines.push({ price: trade.exit_price, title: "exit", dashed: true });
  if (trade.mfe !== null) lines.push({ price: trade.entry_price + sign * trade.mfe, title: "MFE", color: "#26a69a", dashed: true });
  if (trade.mae !== null) lines.push({ price: trade.entry_price - sign * trade.mae, title: "MAE", color: "#ef5350", dashed: true });
  if (trade.initial_stop !== null) lines.push({ price: trade.initial_stop, title: "stop", color: "#ffa726", dashed: true });
  return lines;
}

export default function TradeDetail() {
  const tradeId = Number(useParams().tradeId);
  // Journal saves are numbered; a load shows its journal only if no save started since it
  // began (a live refresh that crosses a save may read the state before it).
  const saves = useRef({ started: 0, inFlight: 0 });
  const trade = useLoad(async (signal) => {
    const before = { ...saves.current };
    const detail = await unwrap(api.GET("/api/trades/{trade_id}", { params: { path: { trade_id: tradeId } }, signal }));
    const fresh = before.inFlight === 0 && before.started === saves.current.started;
    return { ...detail, fresh };
  }, [tradeId]);
  const [timeframe, setTimeframe] = useState<string | null>(null);
  // The journal shown, with the trade it belongs to (a save's answer may come after "n").
  const [shown, setShown] = useState<{ tradeId: number; journal: Detail["journal"] } | null>(null);
  const journal = shown?.tradeId === tradeId ? shown.journal : null;
  const [keyNote, setKeyNote] = useState<string | null>(null);
  const navigate = useNavigate();
  const listState: unknown = useLocation().state;
  useStream(["position_derived", "trade_updated"], (message) => {
    if (trade.data && message.run_id === trade.data.run_id) trade.reload();
  });
  // Another tab ticked a rule or reviewed this trade; a playbook's rules changed.
  useStream(["journal_changed"], (message) => {
    if ((message.target === "trade" && message.key === String(tradeId)) || message.target === "playbook" || message.target === "mistake") trade.reload();
  });
  useEffect(() => {
    const data = trade.data;
    if (!data || data.id !== tradeId) return;
    setShown((current) => (data.fresh || current?.tradeId !== data.id ? { tradeId: data.id, journal: data.journal } : current));
  }, [trade.data, tradeId]);
  const save = useCallback(
    async (body: Schemas["TradeJournalWrite"]) => {
      const mine = ++saves.current.started;
      saves.current.inFlight++;
      try {
        const saved = await saveJournal(tradeId, body);
        if (mine === saves.current.started) setShown({ tradeId, journal: saved });
        return saved;
      } finally {
        saves.current.inFlight--;
      }
    },
    [tradeId],
  );
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => setKeyNote(null), [tradeId]);

  // Keyboard review: "r" marks this trade reviewed, "n" opens the next unreviewed one.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const action = reviewKey(event);
      if (!action || document.querySelector("[data-testid=lightbox]")) return;
      event.preventDefault();
      if (action === "review") {
        saveRef.current({ review_state: "reviewed" }).then(
          () => setKeyNote("Marked reviewed."),
          (error: unknown) => setKeyNote(error instanceof Error ? error.message : String(error)),
        );
      } else {
        const query = nextUnreviewedQuery(listState, tradeId);
        unwrap(api.GET("/api/trades/next-unreviewed", { params: { query: query as never } })).then(
          (next) =>
            next.id === null
              ? setKeyNote(Object.keys(query).length > 1 ? "No unreviewed trade after this one in the list you came from." : "No unreviewed trade after this one.")
              : navigate(`/trades/${next.id}`, { state: listState }),
          (error: unknown) => setKeyNote(error instanceof Error ? error.message : String(error)),
        );
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [tradeId, navigate, listState]);

  const t = trade.data;
  const markers = useMemo(() => (t ? tradeMarkers(t) : []), [t]);
  const lines = useMemo(() => (t ? excursionLines(t) : []), [t]);
  if (trade.error) return <ErrorNote error={trade.error} />;
  if (!t) return <Loading />;

  const chartTimeframe = timeframe ?? t.bars?.timeframe ?? "1m";
  const fromSec = Date.parse(t.entry_ts) / 1000;
  const toSec = t.exit_ts ? Date.parse(t.exit_ts) / 1000 : fromSec + 3600;

  const fillColumns: Column<Fill>[] = [
    { key: "seq", header: "Seq", render: (f) => f.seq },
    { key: "ts", header: "Time", render: (f) => dateTime(f.ts) },
    { key: "role", header: "Role", render: (f) => f.role },
    { key: "side", header: "Side", render: (f) => f.side },
    { key: "qty", header: "Qty", render: (f) => `${num(f.fill_qty)}${f.fill_qty !== f.qty ? ` of ${num(f.qty)}` : ""}`, align: "right" },
    { key: "price", header: "Price", render: (f) => num(f.price, 4), align: "right" },
    { key: "commission", header: "Commission", render: (f) => money(f.commission), align: "right" },
    { key: "order", header: "Order", render: (f) => f.order_id ?? "—" },
    { key: "id", header: "Fill id", render: (f) => f.id },
  ];
  const orderColumns: Column<Order>[] = [
    { key: "order_id", header: "Order", render: (o) => o.order_id },
    { key: "created", header: "Created", render: (o) => dateTime(o.created_ts) },
    { key: "type", header: "Type", render: (o) => o.order_type },
    { key: "side", header: "Side", render: (o) => o.side },
    { key: "qty", header: "Qty", render: (o) => num(o.qty), align: "right" },
    { key: "limit", header: "Limit", render: (o) => num(o.limit_price, 4), align: "right" },
    { key: "stop", header: "Stop", render: (o) => num(o.stop_price, 4), align: "right" },
    { key: "status", header: "Status", render: (o) => o.status },
    { key: "parent", header: "Parent", render: (o) => o.parent_id ?? "—" },
  ];

  return (
    <div className="page">
      <div className="page-head">
        <h1>
          Trade {t.id}: {t.direction} {num(t.qty)} {t.symbol}
        </h1>
        <div className="filters">
          <Link to={`/runs/${t.run_id}`}>Run {t.run_id}</Link>
          <label>
            Timeframe
            <select value={chartTimeframe} onChange={(e) => setTimeframe(e.target.value)}>
              {[...new Set([chartTimeframe, ...TIMEFRAMES])].map((tf) => (
                <option key={tf}>{tf}</option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="cards">
        <Card label="Net PnL" value={money(t.open ? t.unrealised_pnl : t.net_pnl)} tone={pnlClass(t.open ? t.unrealised_pnl : t.net_pnl)} />
        <Card label="Entry → exit" value={`${num(t.entry_price, 4)} → ${num(t.exit_price, 4)}`} />
        <Card label="Held" value={duration(t.hold_seconds)} />
        <Card label="MFE" value={`${num(t.mfe, 4)} (${money(t.mfe_amount)})`} tone="pos" testId="mfe" />
        <Card label="MAE" value={`${num(t.mae, 4)} (${money(t.mae_amount)})`} tone="neg" testId="mae" />
        <Card label="R multiple" value={t.r_multiple === null ? "—" : `${num(t.r_multiple)}R`} />
        <Card label="Exit efficiency" value={t.exit_efficiency === null ? "—" : `${num(t.exit_efficiency * 100, 0)}%`} />
        <Card label="Regime" value={t.regime.trend ? `${t.regime.trend} / ${t.regime.volatility}` : "—"} />
        <Card label="Priced at multiplier" value={`×${t.multiplier} per point`} testId="trade-multiplier" />
      </div>
      <div className="chart-with-shots">
        <section className="panel">
          <CandleChart symbol={t.symbol} timeframe={chartTimeframe} fromSec={fromSec} toSec={toSec} markers={markers} priceLines={lines} />
          <p className="dim">
            {dateTime(t.entry_ts)} → {dateTime(t.exit_ts)} · commission {money(t.commission)} · gross {money(t.gross_pnl)}
          </p>
        </section>
        <section className="panel">
          <Attachments target="trade" targetKey={String(t.id)} paste />
        </section>
      </div>
      <div className="two-col">
        <section className="panel" data-testid="journal-panel">
          <h2>Journal</h2>
          {journal && <TradeReview journal={journal} save={save} />}
          {keyNote && (
            <p className="dim" aria-live="polite" data-testid="key-note">
              {keyNote}
            </p>
          )}
          <JournalForm trade={t} onSaved={trade.reload} />
        </section>
        <section className="panel">
          <h2>Orders</h2>
          <DataTable columns={orderColumns} rows={t.orders} rowKey={(o) => o.order_id} empty="No orders linked to these fills." />
        </section>
      </div>
      <section className="panel">
        <h2>Fills</h2>
        <DataTable testId="fills" columns={fillColumns} rows={t.fills} rowKey={(f) => `${f.id}-${f.seq}`} />
      </section>
      <div className="two-col">
        <section className="panel">
          <h2>Why is this a trade?</h2>
          <ExplainPanel tradeId={t.id} reloadKey={trade.data} />
        </section>
        <section className="panel">
          <h2>Order timelines</h2>
          <OrdersPanel tradeId={t.id} reloadKey={trade.data} />
        </section>
      </div>
    </div>
  );
}

function Card({ label, value, tone, testId }: { label: string; value: string; tone?: string; testId?: string }) {
  return (
    <div className="card" data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className={`card-value small ${tone ?? ""}`}>{value}</div>
    </div>
  );
}

/** Tags typed as `a, b, c` → unique trimmed tags. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(",").map((tag) => tag.trim()).filter(Boolean))];
}

function journalOf(trade: Detail) {
  return { notes: trade.notes ?? "", tags: trade.tags.join(", "), setup: trade.setup ?? "" };
}

function JournalForm({ trade, onSaved }: { trade: Detail; onSaved: () => void }) {
  const [notes, setNotes] = useState(trade.notes ?? "");
  const [tags, setTags] = useState(trade.tags.join(", "));
  const [setup, setSetup] = useState(trade.setup ?? "");
  const [state, setState] = useState<{ saving?: boolean; saved?: boolean; error?: string }>({});
  // What the server holds (or was just sent and accepted): the form is dirty when it differs.
  const [saved, setSaved] = useState(() => journalOf(trade));

  useEffect(() => {
    const stored = journalOf(trade);
    setSaved(stored);
    setNotes(stored.notes);
    setTags(stored.tags);
    setSetup(stored.setup);
  }, [trade.id, trade.notes, trade.setup, trade.tags]);
  const dirty = notes !== saved.notes || parseTags(tags).join(", ") !== saved.tags || setup !== saved.setup;
  useUnsavedWarning(dirty, "This trade's journal has unsaved changes. Leave and lose them?");

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setState({ saving: true });
    try {
      await unwrap(
        api.PATCH("/api/trades/{trade_id}", {
          params: { path: { trade_id: trade.id } },
          body: { notes: notes || null, tags: parseTags(tags), setup: setup || null },
        }),
      );
      setSaved({ notes, tags: parseTags(tags).join(", "), setup });
      setState({ saved: true });
      onSaved();
    } catch (error) {
      setState({ error: error instanceof Error ? error.message : String(error) });
    }
  };

  return (
    <form className="journal" onSubmit={save}>
      <label>
        Setup
        <input name="setup" value={setup} onChange={(e) => setSetup(e.target.value)} placeholder="e.g. opening range breakout" />
      </label>
      <label>
        Tags (comma-separated)
        <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="A+, news, revenge" />
      </label>
      <label>
        Notes
        <textarea name="notes" rows={5} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      {state.error && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
      <div className="row">
        <button className="primary" type="submit" disabled={state.saving}>
          Save journal
        </button>
        {state.saved && !dirty && <span className="pos" role="status">Saved</span>}
        {dirty && <span className="dim" data-testid="journal-unsaved">Unsaved changes</span>}
      </div>
    </form>
  );
}
