// Daily net PnL as a month grid: green/red intensity by size; a day opens its journal entry.
import { Link } from "react-router-dom";
import { money } from "../lib/format";

export interface Day {
  date: string; // YYYY-MM-DD
  net_pnl: number;
  trades?: number;
}

export interface Month {
  key: string; // YYYY-MM
  title: string;
  cells: (Day | null)[]; // Monday-first weeks; null pads
}

/** Groups days into Monday-first month grids, in date order. */
export function monthGrid(days: Day[]): Month[] {
  const byMonth = new Map<string, Map<number, Day>>();
  for (const day of days) {
    const key = day.date.slice(0, 7);
    if (!byMonth.has(key)) byMonth.set(key, new Map());
    byMonth.get(key)!.set(Number(day.date.slice(8, 10)), day);
  }
  return [...byMonth.keys()].sort().map((key) => {
    const [year, month] = key.split("-").map(Number);
    const first = new Date(Date.UTC(year, month - 1, 1));
    const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const pad = (first.getUTCDay() + 6) % 7;
    const cells: (Day | null)[] = Array(pad).fill(null);
    for (let d = 1; d <= length; d++) {
      cells.push(byMonth.get(key)!.get(d) ?? { date: `${key}-${String(d).padStart(2, "0")}`, net_pnl: 0, trades: 0 });
    }
    const title = first.toLocaleString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
    return { key, title, cells };
  });
}

export function PnlCalendar({ days }: { days: Day[] }) {
  if (days.length === 0) return <p className="dim">No trading days yet.</p>;
  const largest = Math.max(...days.map((d) => Math.abs(d.net_pnl)), 1);
  return (
    <div className="calendars" data-testid="calendar">
      {monthGrid(days).map((month) => (
        <div className="calendar" key={month.key}>
          <h4>{month.title}</h4>
          <div className="calendar-grid">
            {["M", "T", "W", "T", "F", "S", "S"].map((d, i) => (
              <span className="calendar-head" key={i}>
                {d}
              </span>
            ))}
            {month.cells.map((cell, i) => {
              if (!cell) return <span key={i} />;
              const strength = Math.min(1, Math.abs(cell.net_pnl) / largest);
              const colour = cell.net_pnl > 0 ? "var(--pos)" : cell.net_pnl < 0 ? "var(--neg)" : "transparent";
              return (
                <Link
                  key={i}
                  to={`/journal/${cell.date}`}
                  className="calendar-day"
                  data-day={cell.date}
                  title={`${cell.date}: ${money(cell.net_pnl)}${cell.trades !== undefined ? `, ${cell.trades} trades` : ""} — open the day's journal`}
                  style={{ background: cell.trades === 0 && cell.net_pnl === 0 ? undefined : `color-mix(in srgb, ${colour} ${Math.round(25 + 60 * strength)}%, transparent)` }}
                >
                  {Number(cell.date.slice(8))}
                </Link>
              );
            })}
          </div>
        </div>
      ))}
    </div>
  );
}
