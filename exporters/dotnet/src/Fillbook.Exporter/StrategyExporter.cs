using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace Fillbook.Exporter
{
    /// <summary>
    /// Streams a strategy's instruments, orders, fills and bars to Fillbook
    /// (docs/ingest.md). Every call spools the event durably before it returns; a background
    /// thread sends batches (by size and age), deletes only what the service acknowledged,
    /// retries network errors, 5xx and 429 with back-off, and stops on envelope errors.
    /// Every event method first checks its times, amounts and timeframe against the service's
    /// input domain (<see cref="InputDomain"/>): a value the service would refuse throws an
    /// <see cref="ArgumentOutOfRangeException"/> in the call, and nothing is spooled.
    /// </summary>
    /// <example>
    /// <code>
    /// var options = new ExporterOptions {
    ///     BaseUrl = "https://fillbook.example.com", ApiKey = key, Source = "quantower-desk-1",
    ///     Run = new RunInfo { Key = "2023-12-15-live", Strategy = "Stacked Imbalance" } };
    /// using (var exporter = new StrategyExporter(options)) {
    ///     exporter.Instrument("MESZ3", multiplier: 5, tickSize: 0.25, currency: "USD");
    ///     exporter.Execution("MESZ3", "buy", 2, 4700.25, fillTimeUtc, id: "x-9001", orderId: "o-17");
    ///     exporter.Flush(TimeSpan.FromSeconds(10));
    /// }
    /// </code>
    /// </example>
    public sealed partial class StrategyExporter : IDisposable
    {
        private readonly ExporterOptions _options;
        private readonly Spool _spool;
        private readonly IIngestTransport _transport;
        private readonly bool _ownsTransport;
        private readonly string _headerJson;
        private readonly EventIds _ids;
        private readonly Action<string> _log;
        private readonly object _signal = new object();
        private readonly Random _random = new Random();
        private readonly Thread _sender;
        private int _flushWaiters;
        private bool _closing;
        private bool _disposed;
        private string _stopReason;
        private bool _stopped; // set after OnStopped ran, so Flush returns to a caller who was told
        private long _acknowledged;
        private long _accepted;
        private long _duplicates;
        private long _rejected;
        private long _retries;

        public StrategyExporter(ExporterOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            if (string.IsNullOrEmpty(options.Source)) throw new ArgumentException("Source is required");
            if (options.Run == null) throw new ArgumentException("Run is required");
            if (options.MaxBatchEvents < 1 || options.MaxBatchEvents > 10000)
            {
                throw new ArgumentException("MaxBatchEvents must be in 1..10000, got " + options.MaxBatchEvents);
            }
            _options = options;
            _headerJson = new JsonObjectBuilder()
                .Add("source", options.Source)
                .AddRaw("run", options.Run.ToJson())
                .ToString();
            _ids = new EventIds(options.Source, options.Run.Key);
            _log = options.Log ?? (message => Trace.WriteLine("fillbook exporter: " + message));
            _transport = options.Transport;
            if (_transport == null)
            {
                _transport = new HttpIngestTransport(options.BaseUrl, options.ApiKey, options.RequestTimeout);
                _ownsTransport = true;
            }
            _spool = Spool.Open(options.SpoolPath ?? DefaultSpoolPath(options.Source),
                options.FsyncEachEvent, options.CompactAfterAcknowledged);
            _sender = new Thread(RunSender);
            _sender.IsBackground = true;
            _sender.Name = "fillbook-exporter";
            _sender.Start();
        }

        /// <summary>Events spooled and not yet acknowledged (including those resumed from an earlier process).</summary>
        public int Pending
        {
            get { return _spool.PendingCount; }
        }

        /// <summary>Events the service answered for (accepted, duplicate or rejected).</summary>
        public long Acknowledged
        {
            get { return Interlocked.Read(ref _acknowledged); }
        }

        /// <summary>Events the service stored as new.</summary>
        public long Accepted
        {
            get { return Interlocked.Read(ref _accepted); }
        }

        /// <summary>Events the service already had (a resend after a lost response, a replayed stream).</summary>
        public long Duplicates
        {
            get { return Interlocked.Read(ref _duplicates); }
        }

        public long Rejected
        {
            get { return Interlocked.Read(ref _rejected); }
        }

        /// <summary>Sends that failed and were retried.</summary>
        public long Retries
        {
            get { return Interlocked.Read(ref _retries); }
        }

        /// <summary>Why the sender stopped (e.g. "401: invalid API key"); null while it runs.</summary>
        public string StopReason
        {
            get { lock (_signal) return _stopReason; }
        }

        public string SpoolPath
        {
            get { return _spool.Path; }
        }

        /// <summary>Declares an instrument: its multiplier (currency per point), tick size and currency.</summary>
        public void Instrument(string symbol, double? multiplier = null, double? tickSize = null,
            string currency = null, string assetClass = null)
        {
            Require(symbol, "symbol");
            OptionalPositive("multiplier", multiplier);
            OptionalPositive("tick_size", tickSize);
            var fields = new JsonObjectBuilder()
                .Add("type", "instrument")
                .Add("symbol", symbol)
                .AddOptional("multiplier", multiplier)
                .AddOptional("tick_size", tickSize)
                .AddOptional("currency", currency)
                .AddOptional("asset_class", assetClass);
            AppendEvent(fields.ToString());
        }

        /// <summary>
        /// An order's state at <paramref name="ts"/>. Send one event per change; each needs its
        /// own <paramref name="id"/> (default: derived from the content).
        /// </summary>
        public string Order(string orderId, string symbol, string side, string orderType, double qty,
            string status, EventTime ts, string id = null, double? limitPrice = null, double? stopPrice = null,
            string tif = null, string parentId = null, double? filledQty = null, double? avgFillPrice = null,
            string reason = null)
        {
            Require(orderId, "orderId");
            Require(symbol, "symbol");
            InputDomain.CheckPositiveAmount("qty", qty);
            OptionalPositive("limit_price", limitPrice);
            OptionalPositive("stop_price", stopPrice);
            OptionalAmount("filled_qty", filledQty);
            OptionalPositive("avg_fill_price", avgFillPrice);
            var body = new JsonObjectBuilder()
                .Add("order_id", orderId)
                .AddRaw("ts", ts.ToJson())
                .Add("symbol", symbol)
                .Add("side", side)
                .Add("order_type", orderType)
                .Add("qty", qty)
                .Add("status", status)
                .AddOptional("limit_price", limitPrice)
                .AddOptional("stop_price", stopPrice)
                .AddOptional("tif", tif)
                .AddOptional("parent_id", parentId)
                .AddOptional("filled_qty", filledQty)
                .AddOptional("avg_fill_price", avgFillPrice)
                .AddOptional("reason", reason);
            return SpoolWithId("order", id, body);
        }

        /// <summary>
        /// A fill. <paramref name="op"/>: null/"new", "amend" (replaces the fill with this id) or
        /// "remove" (busts it). Returns the id sent (derived from the content when none given).
        /// </summary>
        public string Execution(string symbol, string side, double qty, double price, EventTime ts,
            string id = null, string orderId = null, double? commission = null, string account = null,
            string liquidity = null, string op = null)
        {
            Require(symbol, "symbol");
            // A removal is identified by its id alone: the service ignores its qty and price.
            if (op != "remove")
            {
                InputDomain.CheckPositiveAmount("qty", qty);
                InputDomain.CheckPositiveAmount("price", price);
                OptionalAmount("commission", commission);
            }
            var body = new JsonObjectBuilder()
                .AddRaw("ts", ts.ToJson())
                .Add("symbol", symbol)
                .Add("side", side)
                .Add("qty", qty)
                .Add("price", price)
                .AddOptional("order_id", orderId)
                .AddOptional("commission", commission)
                .AddOptional("account", account)
                .AddOptional("liquidity", liquidity)
                .AddOptional("op", op == "new" ? null : op);
            return SpoolWithId("execution", id, body);
        }

        /// <summary>
        /// Busts a fill sent earlier (a broker's back office removed it). The contract needs only
        /// the id; the symbol lets the service re-derive the right position.
        /// </summary>
        public void RemoveExecution(string id, string symbol, string side, double qty, double price, EventTime ts)
        {
            Require(id, "id");
            Execution(symbol, side, qty, price, ts, id: id, op: "remove");
        }

        /// <summary>
        /// A bar stamped with its OPEN time (see <see cref="BarTime.OpenFromClose"/> for platforms
        /// that stamp the close). A later bar with the same symbol, timeframe and ts replaces it.
        /// </summary>
        public void Bar(string symbol, string timeframe, EventTime ts, double open, double high, double low,
            double close, double? volume = null, double? bidVolume = null, double? askVolume = null,
            string series = null, IDictionary<string, double> values = null)
        {
            Require(symbol, "symbol");
            Require(timeframe, "timeframe");
            InputDomain.CheckTimeframe(timeframe);
            InputDomain.CheckPositiveAmount("open", open);
            InputDomain.CheckPositiveAmount("high", high);
            InputDomain.CheckPositiveAmount("low", low);
            InputDomain.CheckPositiveAmount("close", close);
            OptionalVolume("volume", volume);
            OptionalVolume("bid_volume", bidVolume);
            OptionalVolume("ask_volume", askVolume);
            var fields = new JsonObjectBuilder()
                .Add("type", "bar")
                .Add("symbol", symbol)
                .Add("timeframe", timeframe)
                .AddRaw("ts", ts.ToJson())
                .Add("open", open)
                .Add("high", high)
                .Add("low", low)
                .Add("close", close)
                .AddOptional("volume", volume)
                .AddOptional("bid_volume", bidVolume)
                .AddOptional("ask_volume", askVolume)
                .AddOptional("series", series);
            if (values != null) fields.AddValue("values", values);
            AppendEvent(fields.ToString());
        }

        /// <summary>Closes the run: its trades and analytics become final.</summary>
        public void End(EventTime ts, string status = "completed")
        {
            var fields = new JsonObjectBuilder()
                .Add("type", "run_end")
                .AddRaw("ts", ts.ToJson())
                .Add("status", status);
            AppendEvent(fields.ToString());
        }

        /// <summary>
        /// Sends whatever waits now and blocks until the spool is empty, the sender stopped, or
        /// <paramref name="timeout"/> passed. True when everything was acknowledged.
        /// </summary>
        public bool Flush(TimeSpan timeout)
        {
            DateTime deadline = DateTime.UtcNow + timeout;
            lock (_signal)
            {
                _flushWaiters++;
                Monitor.PulseAll(_signal);
                try
                {
                    while (_spool.PendingCount > 0 && !_stopped && !_disposed)
                    {
                        TimeSpan left = deadline - DateTime.UtcNow;
                        if (left <= TimeSpan.Zero) return false;
                        Monitor.Wait(_signal, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
                    }
                    return _spool.PendingCount == 0;
                }
                finally
                {
                    _flushWaiters--;
                }
            }
        }

        /// <summary>
        /// Flushes for up to DisposeFlushTimeout, then stops the sender and closes the spool;
        /// what was not acknowledged stays spooled for the next process.
        /// </summary>
        public void Dispose()
        {
            if (_disposed) return;
            Flush(_options.DisposeFlushTimeout);
            lock (_signal)
            {
                _closing = true;
                Monitor.PulseAll(_signal);
            }
            _sender.Join();
            lock (_signal)
            {
                _disposed = true;
                Monitor.PulseAll(_signal);
            }
            _spool.Dispose();
            if (_ownsTransport) _transport.Dispose();
        }

        /// <summary>fillbook/&lt;source&gt;.spool under the user's local application data.</summary>
        public static string DefaultSpoolPath(string source)
        {
            var safe = new StringBuilder();
            foreach (char c in source)
            {
                safe.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_');
            }
            string root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            if (string.IsNullOrEmpty(root)) root = Path.GetTempPath();
            return Path.Combine(Path.Combine(root, "fillbook"), safe + ".spool");
        }

        private static void Require(string value, string name)
        {
            if (string.IsNullOrEmpty(value)) throw new ArgumentException(name + " is required");
        }

        private static void OptionalPositive(string field, double? value)
        {
            if (value.HasValue) InputDomain.CheckPositiveAmount(field, value.Value);
        }

        private static void OptionalAmount(string field, double? value)
        {
            if (value.HasValue) InputDomain.CheckAmount(field, value.Value);
        }

        private static void OptionalVolume(string field, double? value)
        {
            if (value.HasValue) InputDomain.CheckVolume(field, value.Value);
        }

        private string SpoolWithId(string type, string id, JsonObjectBuilder body)
        {
            string fields = body.Fields();
            if (id == null) id = _ids.Next(type, fields);
            string json = "{\"type\":" + Json.Quote(type) + ",\"id\":" + Json.Quote(id) + "," + fields + "}";
            AppendEvent(json);
            return id;
        }

        private void AppendEvent(string eventJson)
        {
            if (_disposed) throw new ObjectDisposedException("StrategyExporter");
            _spool.Append(_headerJson, eventJson);
            int pending = _spool.PendingCount;
            // Wake the sender when a batch is full, or when the first event starts the age clock.
            if (pending >= _options.MaxBatchEvents || pending == 1)
            {
                lock (_signal) Monitor.PulseAll(_signal);
            }
        }
    }
}
