using System;
using System.Collections.Generic;

namespace Fillbook.Exporter
{
    /// <summary>The strategy run events belong to (the envelope's <c>run</c>).</summary>
    public sealed class RunInfo
    {
        public RunInfo()
        {
            Mode = "live";
            Params = new Dictionary<string, object>();
        }

        /// <summary>Chosen by the exporter, unique per (user, source); the first batch naming it creates the run.</summary>
        public string Key { get; set; }

        public string Strategy { get; set; }

        /// <summary>Optional, e.g. "MES 5m aggressive".</summary>
        public string Instance { get; set; }

        /// <summary>live, paper or backtest.</summary>
        public string Mode { get; set; }

        /// <summary>Optional strategy parameters: strings, numbers, bools, nested dictionaries or lists.</summary>
        public IDictionary<string, object> Params { get; set; }

        /// <summary>Optional; at least 1e-8 and at most 10,000,000,000 (<see cref="InputDomain.MaxCapital"/>).</summary>
        public double? InitialCapital { get; set; }

        internal string ToJson()
        {
            if (string.IsNullOrEmpty(Key)) throw new ArgumentException("run Key is required");
            if (string.IsNullOrEmpty(Strategy)) throw new ArgumentException("run Strategy is required");
            if (Mode != "live" && Mode != "paper" && Mode != "backtest")
            {
                throw new ArgumentException("run Mode must be live, paper or backtest, got '" + Mode + "'");
            }
            if (InitialCapital.HasValue) InputDomain.CheckCapital("initial_capital", InitialCapital.Value);
            var run = new JsonObjectBuilder()
                .Add("key", Key)
                .Add("strategy", Strategy)
                .AddOptional("instance", Instance)
                .Add("mode", Mode);
            if (Params != null && Params.Count > 0) run.AddValue("params", Params);
            run.AddOptional("initial_capital", InitialCapital);
            return run.ToString();
        }
    }

    /// <summary>An event the service refused: reported once through the callback, never resent.</summary>
    public sealed class RejectedEvent
    {
        public RejectedEvent(string id, string error, string eventJson)
        {
            Id = id;
            Error = error;
            EventJson = eventJson;
        }

        /// <summary>The event's id (null for events without one, e.g. bars).</summary>
        public string Id { get; private set; }

        /// <summary>The service's reason, e.g. "side: must be 'buy' or 'sell'".</summary>
        public string Error { get; private set; }

        /// <summary>The event as it was sent.</summary>
        public string EventJson { get; private set; }

        public override string ToString()
        {
            return "rejected " + (Id ?? "event") + ": " + Error;
        }
    }

    /// <summary>Settings of a <see cref="StrategyExporter"/>.</summary>
    public sealed class ExporterOptions
    {
        public ExporterOptions()
        {
            MaxBatchEvents = 1000;
            MaxBatchBytes = 4 * 1024 * 1024;
            MaxBatchAge = TimeSpan.FromMilliseconds(500);
            RequestTimeout = TimeSpan.FromSeconds(30);
            DisposeFlushTimeout = TimeSpan.FromSeconds(5);
            Retry = new RetryPolicy();
            FsyncEachEvent = true;
            CompactAfterAcknowledged = 10000;
        }

        /// <summary>The service, e.g. https://fillbook.example.com.</summary>
        public string BaseUrl { get; set; }

        /// <summary>An API key (POST /api/auth/api-keys); sent as <c>Authorization: Bearer</c>.</summary>
        public string ApiKey { get; set; }

        /// <summary>This exporter's name; with the user it scopes event ids.</summary>
        public string Source { get; set; }

        public RunInfo Run { get; set; }

        /// <summary>The spool file; default: fillbook/&lt;source&gt;.spool under the user's local application data.</summary>
        public string SpoolPath { get; set; }

        /// <summary>Send as soon as this many events wait (the contract allows up to 10,000).</summary>
        public int MaxBatchEvents { get; set; }

        /// <summary>Cap on a batch's JSON size (the contract allows 16 MiB).</summary>
        public int MaxBatchBytes { get; set; }

        /// <summary>Send a smaller batch once its oldest event has waited this long.</summary>
        public TimeSpan MaxBatchAge { get; set; }

        public TimeSpan RequestTimeout { get; set; }

        /// <summary>How long Dispose waits for the spool to drain before closing (events left stay spooled).</summary>
        public TimeSpan DisposeFlushTimeout { get; set; }

        public RetryPolicy Retry { get; set; }

        /// <summary>
        /// true: every event is forced to the disk before its call returns (survives power loss);
        /// false: written to the operating system only (survives the process dying, ~10x faster).
        /// </summary>
        public bool FsyncEachEvent { get; set; }

        /// <summary>Compact the spool file once this many acknowledged events accumulate in it.</summary>
        public int CompactAfterAcknowledged { get; set; }

        /// <summary>Called (on the sender thread) for each event the service rejected.</summary>
        public Action<RejectedEvent> OnRejected { get; set; }

        /// <summary>Called once (on the sender thread) when an envelope error (400, 401, 413, 415, 422) stops the sender.</summary>
        public Action<string> OnStopped { get; set; }

        /// <summary>Diagnostics: retries, rejections, stops. Default: System.Diagnostics.Trace.</summary>
        public Action<string> Log { get; set; }

        /// <summary>Replaces the HTTP transport (another HTTP stack inside a platform).</summary>
        public IIngestTransport Transport { get; set; }
    }
}
