using System;
using System.Globalization;

namespace Fillbook.Exporter
{
    /// <summary>
    /// Times as trading platforms hand them out, converted to the UTC instants the contract wants.
    /// </summary>
    public static class PlatformTime
    {
        /// <summary>
        /// A platform timestamp to UTC. A DateTime with Kind Utc is taken as is; any other Kind
        /// is read as a wall-clock time in <paramref name="platformZone"/> (NinjaTrader stamps
        /// everything in the zone chosen under Tools > Options > General, whatever the
        /// machine's zone). In the hour a DST change repeats, the wall clock is ambiguous and
        /// .NET picks the zone's standard offset.
        /// </summary>
        public static DateTimeOffset ToUtc(DateTime platformTime, TimeZoneInfo platformZone)
        {
            if (platformTime.Kind == DateTimeKind.Utc)
            {
                return new DateTimeOffset(platformTime, TimeSpan.Zero);
            }
            if (platformZone == null) throw new ArgumentNullException("platformZone");
            var wallClock = DateTime.SpecifyKind(platformTime, DateTimeKind.Unspecified);
            if (platformZone.IsInvalidTime(wallClock))
            {
                throw new ArgumentException(
                    "time " + wallClock.ToString("s", CultureInfo.InvariantCulture) +
                    " does not exist in " + platformZone.Id + " (skipped by a DST change)");
            }
            DateTime utc = TimeZoneInfo.ConvertTimeToUtc(wallClock, platformZone);
            return new DateTimeOffset(utc, TimeSpan.Zero);
        }

        /// <summary>
        /// A time the platform documents as UTC (Quantower) but may hand out with Kind
        /// Unspecified: the value is taken as UTC, whatever its Kind says, except that a Local
        /// DateTime is converted properly.
        /// </summary>
        public static DateTimeOffset AssumeUtc(DateTime time)
        {
            if (time.Kind == DateTimeKind.Local)
            {
                return new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero);
            }
            return new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero);
        }
    }

    /// <summary>Bar times: the contract stamps a bar with its open time.</summary>
    public static class BarTime
    {
        /// <summary>
        /// The open time of a time-based bar stamped with its close time (NinjaTrader's Time[0]
        /// of a 5-minute bar that closed at 09:35 is 09:35; its open is 09:30).
        /// </summary>
        public static DateTimeOffset OpenFromClose(DateTimeOffset closeTime, TimeSpan barPeriod)
        {
            if (barPeriod <= TimeSpan.Zero)
            {
                throw new ArgumentException("barPeriod must be positive, got " + barPeriod);
            }
            return closeTime - barPeriod;
        }

        /// <summary>The contract's timeframe for a period: 30s, 1m, 5m, 1h, 4h, 1d.</summary>
        public static string Timeframe(TimeSpan period)
        {
            if (period <= TimeSpan.Zero || period.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                throw new ArgumentException("a timeframe must be a positive whole number of seconds, got " + period);
            }
            long seconds = period.Ticks / TimeSpan.TicksPerSecond;
            if (seconds % 86400 == 0) return (seconds / 86400).ToString(CultureInfo.InvariantCulture) + "d";
            if (seconds % 3600 == 0) return (seconds / 3600).ToString(CultureInfo.InvariantCulture) + "h";
            if (seconds % 60 == 0) return (seconds / 60).ToString(CultureInfo.InvariantCulture) + "m";
            return seconds.ToString(CultureInfo.InvariantCulture) + "s";
        }
    }

    /// <summary>Instrument facts derived from what platforms expose.</summary>
    public static class InstrumentMath
    {
        /// <summary>
        /// The multiplier (currency per point) from a tick's cost and size: Quantower gives
        /// <c>GetTickCost(price)</c> (currency per tick) and <c>TickSize</c> (points per tick),
        /// so MES with 1.25 USD per 0.25-point tick is worth 5 USD per point.
        /// </summary>
        public static double PointValue(double tickCost, double tickSize)
        {
            if (double.IsNaN(tickCost) || double.IsInfinity(tickCost) || tickCost <= 0)
            {
                throw new ArgumentException("tickCost must be a positive number, got " + tickCost);
            }
            if (double.IsNaN(tickSize) || double.IsInfinity(tickSize) || tickSize <= 0)
            {
                throw new ArgumentException("tickSize must be a positive number, got " + tickSize);
            }
            // Round away the binary noise of e.g. 1.25 / 0.25 computed from non-exact doubles.
            return Math.Round(tickCost / tickSize, 10);
        }
    }

    /// <summary>
    /// Platform enum names (passed as their ToString()) to the contract's words. Matching by
    /// name keeps the library free of platform SDKs, so the mapping is compiled and tested here.
    /// </summary>
    public static class ContractNames
    {
        /// <summary>Quantower Side / NinjaTrader OrderAction or MarketPosition to buy/sell.</summary>
        public static string Side(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "buy":
                case "buytocover":
                case "long":
                    return "buy";
                case "sell":
                case "sellshort":
                case "short":
                    return "sell";
                default:
                    throw new ArgumentException("unknown side '" + platformName + "'");
            }
        }

        /// <summary>
        /// Quantower OrderStatus / NinjaTrader OrderState to the contract's status. Transitional
        /// states (pending submit, change, cancel) count as working: the order is live.
        /// </summary>
        public static string OrderStatus(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "initialized":
                case "submitted":
                case "unspecified":
                case "new":
                case "pendingnew":
                    return "new";
                case "opened":
                case "open":
                case "accepted":
                case "working":
                case "triggerpending":
                case "changepending":
                case "changesubmitted":
                case "cancelpending":
                case "cancelsubmitted":
                case "modifying":
                    return "working";
                case "partfilled":
                case "partiallyfilled":
                    return "partially_filled";
                case "filled":
                    return "filled";
                case "cancelled":
                case "canceled":
                    return "cancelled";
                case "refused":
                case "rejected":
                    return "rejected";
                case "expired":
                    return "expired";
                default:
                    throw new ArgumentException("unknown order status '" + platformName + "'");
            }
        }

        /// <summary>
        /// Quantower OrderTypeBehavior / NinjaTrader OrderType to the contract's order_type.
        /// Trailing stops are stops whose price moves; market-if-touched is a market order once
        /// triggered, recorded as a stop on its trigger price.
        /// </summary>
        public static string OrderType(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "market":
                    return "market";
                case "limit":
                    return "limit";
                case "stop":
                case "stopmarket":
                case "trailingstop":
                case "mit":
                case "marketiftouched":
                    return "stop";
                case "stoplimit":
                    return "stop_limit";
                default:
                    throw new ArgumentException("unknown order type '" + platformName + "'");
            }
        }

        /// <summary>Time in force names to the contract's lower-case tif (null when unknown).</summary>
        public static string TimeInForce(string platformName)
        {
            string name = Normalize(platformName);
            switch (name)
            {
                case "day": return "day";
                case "gtc": return "gtc";
                case "ioc": return "ioc";
                case "fok": return "fok";
                case "gtd": return "gtd";
                case "": return null;
                case "default": return null;
                default: return name;
            }
        }

        /// <summary>NinjaTrader's Cbi.Operation of an execution update to the contract's op.</summary>
        public static string ExecutionOperation(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "add": return "new";
                case "update": return "amend";
                case "remove": return "remove";
                default:
                    throw new ArgumentException("unknown execution operation '" + platformName + "'");
            }
        }

        private static string Normalize(string name)
        {
            if (name == null) return "";
            return name.Replace("_", "").Replace(" ", "").ToLowerInvariant();
        }
    }
}

namespace Fillbook.Exporter
{
    /// <summary>Numbers as platforms report them (NaN or 0 for "not set") to the contract's optional fields.</summary>
    public static class PlatformValue
    {
        /// <summary>A price, or null when the platform left it unset (NaN, infinite, zero or negative).</summary>
        public static double? Price(double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value) || value <= 0) return null;
            return value;
        }

        /// <summary>
        /// A commission as the contract wants it (>= 0): platforms report fees as a cost, some
        /// with a negative sign (a P&amp;L item), so the magnitude is kept. Null when unknown.
        /// </summary>
        public static double? Commission(double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value)) return null;
            return Math.Abs(value);
        }
    }

    /// <summary>
    /// Exporter settings from a small text file (key = value lines, # comments), for platforms
    /// without a settings dialog (the NinjaTrader add-on reads Documents\NinjaTrader 8\fillbook.config).
    /// </summary>
    public static class KeyValueConfig
    {
        public static System.Collections.Generic.Dictionary<string, string> Parse(string text)
        {
            var values = new System.Collections.Generic.Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string[] lines = (text ?? "").Replace("\r\n", "\n").Split('\n');
            for (int number = 0; number < lines.Length; number++)
            {
                string line = lines[number].Trim();
                if (line.Length == 0 || line.StartsWith("#", StringComparison.Ordinal)) continue;
                int equals = line.IndexOf('=');
                if (equals <= 0)
                {
                    throw new FormatException("line " + (number + 1) + ": expected 'key = value', got '" + line + "'");
                }
                values[line.Substring(0, equals).Trim()] = line.Substring(equals + 1).Trim();
            }
            return values;
        }

        /// <summary>
        /// ExporterOptions from the keys url, api_key, source, run_key, strategy, and optionally
        /// instance, mode (default live), initial_capital, spool.
        /// </summary>
        public static ExporterOptions ToOptions(System.Collections.Generic.IDictionary<string, string> values)
        {
            var options = new ExporterOptions
            {
                BaseUrl = Required(values, "url"),
                ApiKey = Required(values, "api_key"),
                Source = Required(values, "source"),
                Run = new RunInfo
                {
                    Key = Required(values, "run_key"),
                    Strategy = Required(values, "strategy"),
                    Instance = Optional(values, "instance"),
                    Mode = Optional(values, "mode") ?? "live",
                },
                SpoolPath = Optional(values, "spool"),
            };
            string capital = Optional(values, "initial_capital");
            if (capital != null)
            {
                options.Run.InitialCapital = double.Parse(capital, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            return options;
        }

        private static string Required(System.Collections.Generic.IDictionary<string, string> values, string key)
        {
            string value = Optional(values, key);
            if (value == null) throw new ArgumentException("the setting '" + key + "' is required");
            return value;
        }

        private static string Optional(System.Collections.Generic.IDictionary<string, string> values, string key)
        {
            string value;
            return values.TryGetValue(key, out value) && value.Length > 0 ? value : null;
        }
    }
}
