import { pnlClass } from "../lib/format";
import { metricHint, metricLabel, metricText } from "../lib/metricDisplay";
import type { Definitions } from "../lib/metricUnits";
import { intervalOf, intervalText } from "../lib/intervals";

export type MetricDoc = Record<string, unknown> & { undefined?: Record<string, string> };

/**
 * The headline numbers. The drawdown is the closed-trade one: the trough of the
 * drawdown chart beside the cards (docs/metrics.md).
 */
export const HEADLINE = ["net_pnl", "win_rate", "profit_factor", "expectancy", "max_drawdown_trades", "sharpe"] as const;

const SIGNED = new Set(["net_pnl", "expectancy"]);

/** The headline numbers as cards, labelled from the registry; a blank one says why. */
export function HeadlineCards({ metrics, definitions }: { metrics: MetricDoc | undefined; definitions: Definitions }) {
  return (
    <div className="cards" data-testid="headline">
      {HEADLINE.map((name) => {
        const value = metrics?.[name];
        const reason = metrics?.undefined?.[name];
        const definition = definitions[name];
        return (
          <div className="card" key={name} title={metricHint(definition, reason)}>
            <div className="card-label" data-testid="metric-label">
              {metricLabel(name, definitions)}
            </div>
            <div className={`card-value ${SIGNED.has(name) && typeof value === "number" ? pnlClass(value) : ""}`} data-metric={name}>
              {metrics ? metricText(value, definition) : "…"}
            </div>
            {reason && <div className="card-note">{reason}</div>}
          </div>
        );
      })}
    </div>
  );
}

/** Every metric of the registry, in its order, with its label, value and explanation. */
export function MetricList({ metrics, definitions }: { metrics: MetricDoc; definitions: Definitions }) {
  const names = Object.keys(definitions).filter((name) => name in metrics || metrics.undefined?.[name]);
  return (
    <dl className="metric-list" data-testid="metric-list">
      {names.map((name) => {
        const reason = metrics.undefined?.[name];
        const interval = reason ? undefined : intervalOf(metrics, name);
        const range = intervalText(interval, definitions[name]);
        return (
          <div key={name} title={[metricHint(definitions[name], reason), range, interval && !interval.enough ? interval.reason : ""].filter(Boolean).join(" · ")}>
            <dt data-testid="metric-label">{metricLabel(name, definitions)}</dt>
            <dd>
              <span data-list-metric={name}>{metricText(metrics[name], definitions[name])}</span>
              {range && interval?.ci_low !== null && (
                <span className={`card-note ci${interval?.enough ? "" : " thin"}`} data-interval={name}>
                  {range}
                </span>
              )}
              {reason && <span className="card-note">{reason}</span>}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
