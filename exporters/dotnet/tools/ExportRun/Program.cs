using System;
using System.Collections.Generic;
using System.Globalization;
using Fillbook.Exporter;

namespace Fillbook.ExportRun
{
    /// <summary>
    /// A console program that drives the exporter the way a platform would, for the
    /// integration tests (tests/exporters/dotnet/test_dotnet.py):
    /// <code>
    /// ExportRun.exe push-run --url U --key K --source S --run-key R --spool F   a small complete run
    /// ExportRun.exe chaos    ... --count N                                      N fills without ids
    /// ExportRun.exe resume   ...                                                send what the spool holds
    /// </code>
    /// Options: --batch-events B (default 1000), --compact-after A (compact the spool after A
    /// acknowledged events, default 10000), --flush-seconds T (default 60), --no-fsync.
    /// It prints "spooled N" once every event is in the spool, then one JSON summary line.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length < 1)
            {
                Console.Error.WriteLine("usage: ExportRun.exe push-run|chaos|resume --url U --key K --source S --run-key R --spool F [--count N] [--batch-events B] [--compact-after A] [--flush-seconds T] [--no-fsync]");
                return 2;
            }
            string mode = args[0];
            Dictionary<string, string> options = ParseOptions(args);
            var rejections = new List<RejectedEvent>();
            var exporterOptions = new ExporterOptions
            {
                BaseUrl = options["url"],
                ApiKey = options["key"],
                Source = options["source"],
                SpoolPath = options["spool"],
                Run = new RunInfo
                {
                    Key = options["run-key"],
                    Strategy = "C# exporter test",
                    Instance = "mono",
                    Mode = "paper",
                    InitialCapital = 25000,
                },
                OnRejected = rejection => { lock (rejections) rejections.Add(rejection); },
                Log = message => Console.Error.WriteLine(message),
                FsyncEachEvent = !options.ContainsKey("no-fsync"),
            };
            exporterOptions.Retry.MaxDelay = TimeSpan.FromSeconds(2);
            exporterOptions.MaxBatchEvents = int.Parse(Get(options, "batch-events", "1000"), CultureInfo.InvariantCulture);
            exporterOptions.CompactAfterAcknowledged = int.Parse(Get(options, "compact-after", "10000"), CultureInfo.InvariantCulture);
            double flushSeconds = double.Parse(Get(options, "flush-seconds", "60"), CultureInfo.InvariantCulture);
            using (var exporter = new StrategyExporter(exporterOptions))
            {
                int spooled;
                switch (mode)
                {
                    case "push-run":
                        spooled = PushRun(exporter);
                        break;
                    case "chaos":
                        spooled = PushFills(exporter, int.Parse(options["count"], CultureInfo.InvariantCulture));
                        break;
                    case "resume":
                        spooled = 0;
                        break;
                    default:
                        Console.Error.WriteLine("unknown mode " + mode);
                        return 2;
                }
                Console.WriteLine("spooled " + spooled);
                Console.Out.Flush();
                bool flushed = exporter.Flush(TimeSpan.FromSeconds(flushSeconds));
                var summary = new JsonObjectBuilder()
                    .Add("flushed", flushed)
                    .Add("pending", (long)exporter.Pending)
                    .Add("acknowledged", exporter.Acknowledged)
                    .Add("accepted", exporter.Accepted)
                    .Add("duplicates", exporter.Duplicates)
                    .Add("rejected", exporter.Rejected)
                    .Add("retries", exporter.Retries)
                    .Add("stop_reason", exporter.StopReason);
                var rejected = new List<object>();
                lock (rejections)
                {
                    foreach (RejectedEvent rejection in rejections)
                    {
                        var item = new Dictionary<string, object>();
                        item["id"] = rejection.Id;
                        item["error"] = rejection.Error;
                        rejected.Add(item);
                    }
                }
                summary.AddValue("rejections", rejected);
                Console.WriteLine(summary.ToString());
                return flushed ? 0 : 1;
            }
        }

        /// <summary>
        /// A short MES session: an instrument, two round trips with their orders, three 1-minute
        /// bars, one fill the service must reject (side "short": the exporter refuses amounts and
        /// times outside the input domain itself, but leaves the words to the service), and the
        /// run's end. Returns the count.
        /// </summary>
        private static int PushRun(StrategyExporter exporter)
        {
            var t0 = new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero);
            exporter.Instrument("MESZ3", multiplier: 5, tickSize: 0.25, currency: "USD");
            for (int minute = 0; minute < 3; minute++)
            {
                double open = 4700 + minute;
                exporter.Bar("MESZ3", "1m", t0.AddMinutes(minute), open, open + 1.5, open - 0.25, open + 1.25, volume: 1000 + minute);
            }
            exporter.Order("o-1", "MESZ3", "buy", "limit", 2, "working", t0.AddSeconds(1), id: "o-1:working", limitPrice: 4700.25, tif: "day");
            exporter.Order("o-1", "MESZ3", "buy", "limit", 2, "filled", t0.AddSeconds(2), id: "o-1:filled", limitPrice: 4700.25, filledQty: 2, avgFillPrice: 4700.25);
            exporter.Execution("MESZ3", "buy", 2, 4700.25, t0.AddSeconds(2), id: "x-1", orderId: "o-1", commission: 0.74);
            exporter.Order("o-2", "MESZ3", "sell", "market", 2, "filled", t0.AddSeconds(70), id: "o-2:filled", filledQty: 2, avgFillPrice: 4702.5);
            exporter.Execution("MESZ3", "sell", 2, 4702.5, t0.AddSeconds(70), id: "x-2", orderId: "o-2", commission: 0.74);
            // Second round trip, short, with a fill whose id is derived by the exporter.
            exporter.Execution("MESZ3", "sell", 1, 4703.0, t0.AddSeconds(100), orderId: "o-3", commission: 0.37);
            exporter.Execution("MESZ3", "buy", 1, 4701.0, t0.AddSeconds(150), orderId: "o-4", commission: 0.37);
            exporter.Execution("MESZ3", "short", 1, 4701.0, t0.AddSeconds(160), id: "x-bad");
            exporter.End(t0.AddMinutes(10));
            return 13;
        }

        /// <summary>
        /// count fills alternating buy and sell of 1 contract, one second apart, without ids:
        /// every one is identified by its derived id alone.
        /// </summary>
        private static int PushFills(StrategyExporter exporter, int count)
        {
            var t0 = new DateTimeOffset(2024, 1, 8, 14, 30, 0, TimeSpan.Zero);
            exporter.Instrument("MNQH4", multiplier: 2, tickSize: 0.25, currency: "USD");
            for (int i = 0; i < count; i++)
            {
                string side = i % 2 == 0 ? "buy" : "sell";
                double price = 16000 + (i % 8) * 0.25;
                exporter.Execution("MNQH4", side, 1, price, t0.AddSeconds(i), commission: 0.25);
            }
            return count + 1;
        }

        private static Dictionary<string, string> ParseOptions(string[] args)
        {
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException("expected an --option, got " + args[i]);
                }
                string name = args[i].Substring(2);
                if (name == "no-fsync")
                {
                    options[name] = "true";
                    continue;
                }
                if (i + 1 >= args.Length) throw new ArgumentException("--" + name + " needs a value");
                options[name] = args[++i];
            }
            return options;
        }

        private static string Get(Dictionary<string, string> options, string name, string fallback)
        {
            string value;
            return options.TryGetValue(name, out value) ? value : fallback;
        }
    }
}
