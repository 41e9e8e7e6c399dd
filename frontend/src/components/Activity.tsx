// What the stream said since the page opened: the dashboard's recent-activity feed.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { num, percent, timeOnly } from "../lib/format";
import { liveStream, type StreamMessage } from "../lib/stream";

export interface ActivityItem {
  at: Date;
  text: string;
  runId?: number;
}

/** One line for a stream message, or null for those not worth showing. */
export function describe(message: StreamMessage): string | null {
  switch (message.type) {
    case "ingested": {
      const parts = [`${num(Number(message.accepted), 0)} events stored`];
      if (Number(message.duplicates)) parts.push(`${num(Number(message.duplicates), 0)} duplicates`);
      if (Number(message.rejected)) parts.push(`${num(Number(message.rejected), 0)} rejected`);
      return `${parts.join(", ")}${message.run_ended ? "; run ended" : ""}`;
    }
    case "position_derived":
      return `trades rebuilt for ${message.symbol}${message.account ? ` (${message.account})` : ""}`;
    case "metrics_updated":
      return "metrics updated";
    case "trade_updated":
      return `journal of trade ${message.trade_id} edited`;
    case "training_progress":
      return `training job ${message.job_id}: ${message.status} ${percent(Number(message.progress), 0)}`;
    case "backtest_progress":
      return `backtest ${message.backtest_id}: ${message.status}${message.progress !== undefined ? ` ${percent(Number(message.progress), 0)}` : ""}`;
    default:
      return null;
  }
}

export function ActivityFeed({ limit = 8 }: { limit?: number }) {
  const [items, setItems] = useState<ActivityItem[]>([]);
  useEffect(
    () =>
      liveStream.subscribe((message) => {
        const text = describe(message);
        if (!text) return;
        setItems((list) => [{ at: new Date(), text, runId: message.run_id }, ...list].slice(0, limit));
      }),
    [limit],
  );
  if (items.length === 0) return <p className="dim">Waiting for live updates…</p>;
  return (
    <ul className="activity" data-testid="activity">
      {items.map((item, i) => (
        <li key={`${item.at.getTime()}-${i}`}>
          <span className="dim">{timeOnly(item.at)}</span>{" "}
          {item.runId ? <Link to={`/runs/${item.runId}`}>run {item.runId}</Link> : null} {item.text}
        </li>
      ))}
    </ul>
  );
}
