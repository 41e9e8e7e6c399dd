import { Link } from "react-router-dom";
import type { Schemas } from "../api/client";
import { dateTime, dateTimeShort, duration, money, num, pnlClass } from "../lib/format";
import type { Column } from "./DataTable";

export type Trade = Schemas["TradeRead"];
/** A row of the trade lists: a trade with its review state, playbook and mistakes. */
export type TradeItem = Schemas["TradeListItem"];

// Net P&L and R come right after the side so a phone (secondary columns hidden) shows them.
export const tradeColumns: Column<Trade>[] = [
  { key: "id", header: "#", render: (t) => <Link to={`/trades/${t.id}`}>{t.id}</Link> },
  {
    key: "entry_ts",
    header: "Entry",
    // To the second, or to the minute where a phone has no room (the trade's page has seconds).
    render: (t) => (
      <>
        <span className="wide-only">{dateTime(t.entry_ts)}</span>
        <span className="phone-only">{dateTimeShort(t.entry_ts)}</span>
      </>
    ),
    sortable: true,
  },
  { key: "symbol", header: "Symbol", render: (t) => t.symbol, phoneHide: true },
  { key: "direction", header: "Side", render: (t) => t.direction },
  {
    key: "net_pnl",
    header: "Net PnL",
    render: (t) => (t.open ? `${money(t.unrealised_pnl)} open` : money(t.net_pnl)),
    className: (t) => pnlClass(t.open ? t.unrealised_pnl : t.net_pnl),
    sortable: true,
    align: "right",
  },
  { key: "r_multiple", header: "R", render: (t) => (t.r_multiple === null ? "—" : `${num(t.r_multiple)}R`), sortable: true, align: "right" },
  { key: "qty", header: "Qty", render: (t) => num(t.qty), sortable: true, align: "right", phoneHide: true },
  { key: "entry_price", header: "Entry px", render: (t) => num(t.entry_price, 4), align: "right", phoneHide: true },
  { key: "exit_price", header: "Exit px", render: (t) => num(t.exit_price, 4), align: "right", phoneHide: true },
  { key: "hold", header: "Hold", render: (t) => duration(t.hold_seconds), align: "right", phoneHide: true },
  { key: "mfe", header: "MFE", render: (t) => num(t.mfe, 4), sortable: true, align: "right", phoneHide: true },
  { key: "mae", header: "MAE", render: (t) => num(t.mae, 4), sortable: true, align: "right", phoneHide: true },
  { key: "regime", header: "Regime", render: (t) => (t.regime.trend ? `${t.regime.trend} / ${t.regime.volatility}` : "—"), phoneHide: true },
  { key: "setup", header: "Setup", render: (t) => t.setup ?? "", phoneHide: true },
  { key: "tags", header: "Tags", render: (t) => t.tags.join(", "), phoneHide: true },
];

/** The journal's columns: review state, playbook (by name) and mistakes. */
export function journalColumns(playbookNames: Map<number, string>): Column<TradeItem>[] {
  return [
    {
      key: "review_state",
      header: "Review",
      render: (t) => (t.review_state === "reviewed" ? <span className="pos">reviewed</span> : <span className="dim">new</span>),
    },
    { key: "playbook", header: "Playbook", render: (t) => (t.playbook_id === null ? "—" : (playbookNames.get(t.playbook_id) ?? `#${t.playbook_id}`)), phoneHide: true },
    { key: "mistakes", header: "Mistakes", render: (t) => t.mistakes.join(", "), phoneHide: true },
  ];
}
