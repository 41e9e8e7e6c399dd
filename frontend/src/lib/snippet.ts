/** A copy-paste Python exporter example for a new API key (fillbook_exporter). */
export function exporterSnippet(baseUrl: string, apiKey: string, source: string): string {
  return `# pip install ./exporters/python   (the fillbook_exporter package)
import datetime as dt
from fillbook_exporter import Exporter

exporter = Exporter(
    "${baseUrl}",
    "${apiKey}",
    source="${source}",
    run={"key": dt.date.today().isoformat(), "strategy": "My strategy", "mode": "live"},
)
exporter.instrument("MESZ3", multiplier=5, tick_size=0.25)
now = dt.datetime.now(dt.timezone.utc)
exporter.execution(now, "MESZ3", "buy", 1, 4700.25, order_id="o-1", commission=0.37)
exporter.execution(now + dt.timedelta(minutes=5), "MESZ3", "sell", 1, 4702.00, order_id="o-2", commission=0.37)
exporter.end()
exporter.close()  # waits until the spool is sent
`;
}
