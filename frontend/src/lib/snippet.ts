/** What the snippet installs the SDK from: this server's wheel, or the package index. */
export interface SdkDownload {
  path: string; // e.g. /downloads/fillbook_exporter-0.1.0-py3-none-any.whl
  sha256: string;
}

/** The shell line that installs the exporter SDK: from this server when it serves the wheel. */
export function installLine(baseUrl: string, sdk: SdkDownload | null): string {
  return sdk ? `pip install "${baseUrl}${sdk.path}"` : "pip install fillbook-exporter";
}

/** A copy-paste Python exporter example for a new API key (fillbook_exporter).
 *
 * It installs nothing itself; the first comment line says how. It sends a run with starting
 * capital (so drawdown % and Sharpe have a base), thirty one-minute bars ending now (so the
 * trade opens on a chart), and one round trip inside them: nothing is stamped in the future.
 * It prints what it sent and what the service answered. */
export function exporterSnippet(baseUrl: string, apiKey: string, source: string, sdk: SdkDownload | null = null): string {
  return `# 1. install the SDK:  ${installLine(baseUrl, sdk)}
# 2. run this file:    python first_run.py
import datetime as dt

from fillbook_exporter import Exporter

URL = "${baseUrl}"
now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
start = now - dt.timedelta(minutes=30)  # thirty 1-minute bars ending now: nothing in the future
# a sample, so mode "paper" (the dashboard shows live runs by default: pick paper there);
# starting capital gives drawdown % and Sharpe their base
exporter = Exporter(
    URL,
    "${apiKey}",
    source="${source}",
    run={"key": "first-run-" + now.strftime("%Y%m%dT%H%M"), "strategy": "My strategy",
         "mode": "paper", "initial_capital": 25_000},
)
exporter.instrument("MESZ3", multiplier=5, tick_size=0.25, currency="USD")
price = 4700.00
for i in range(30):
    opened = price
    price = round(opened + (0.5, -0.25, 0.75, -0.5, 0.25)[i % 5], 2)
    exporter.bar("MESZ3", "1m", start + dt.timedelta(minutes=i), opened,
                 max(opened, price) + 0.25, min(opened, price) - 0.25, price, volume=100 + i)
entry, exit_ = start + dt.timedelta(minutes=5, seconds=10), start + dt.timedelta(minutes=25, seconds=40)
exporter.execution(entry, "MESZ3", "buy", 1, 4700.75, order_id="o-1", commission=0.37)
exporter.execution(exit_, "MESZ3", "sell", 1, 4704.00, order_id="o-2", commission=0.37)
exporter.end(now)
state = exporter.flush(timeout=30, wait="derived")  # until the service has rebuilt the trade
stats = exporter.stats
exporter.close()
print(f"sent {stats['accepted']} events to {URL} ({stats['duplicates']} duplicates, "
      f"{stats['rejected']} rejected); trades: {state}")
print(f"one trade: +3.25 points x 5 = $16.25 gross, $15.51 net of commission: {URL}/trades")
`;
}
