import { label, metricValue, pnlClass } from "../lib/format";

export type MetricDoc = Record<string, unknown> & { undefined?: Record<string, string> };
export type Units = Record<string, string>;

export const HEADLINE = ["net_pnl", "win_rate", "profit_factor", "expectancy", "max_drawdown", "sharpe_ratio"] as const;

const HEADLINE_LABELS: Record<string, string> = {
  net_pnl: "Net PnL",
  win_rate: "Win rate",
  profit_factor: "Profit factor",
  expectancy: "Expectancy",
  max_drawdown: "Max drawdown",
  sharpe_ratio: "Sharpe",
};

/** The six headline numbers as cards; a null value shows the server's reason on hover. */
export function HeadlineCards({ metrics, units }: { metrics: MetricDoc | undefined; units: Units }) {
  return (
    <div className="cards" data-testid="headline">
      {HEADLINE.map((name) => {
        const value = metrics?.[name];
        const reason = metrics?.undefined?.[name];
        return (
          <div className="card" key={name} title={reason ?? undefined}>
            <div className="card-label">{HEADLINE_LABELS[name]}</div>
            <div className={`card-value ${typeof value === "number" && name !== "max_drawdown" ? pnlClass(name === "net_pnl" || name === "expectancy" ? value : 0) : ""}`} data-metric={name}>
              {metricValue(value, units[name])}
            </div>
          </div>
        );
      })}
    </div>
  );
}

/** Every metric in a two-column list. */
export function MetricList({ metrics, units }: { metrics: MetricDoc; units: Units }) {
  const names = Object.keys(units).filter((name) => name in metrics || metrics.undefined?.[name]);
  return (
    <dl className="metric-list">
      {names.map((name) => (
        <div key={name} title={metrics.undefined?.[name] ?? undefined}>
          <dt>{label(name)}</dt>
          <dd>{metricValue(metrics[name], units[name])}</dd>
        </div>
      ))}
    </dl>
  );
}
