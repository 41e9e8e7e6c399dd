using System;
using System.Collections.Generic;
using System.Globalization;

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
        public static Dictionary<string, string> Parse(string text)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
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
        public static ExporterOptions ToOptions(IDictionary<string, string> values)
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

        private static string Required(IDictionary<string, string> values, string key)
        {
            string value = Optional(values, key);
            if (value == null) throw new ArgumentException("the setting '" + key + "' is required");
            return value;
        }

        private static string Optional(IDictionary<string, string> values, string key)
        {
            string value;
            return values.TryGetValue(key, out value) && value.Length > 0 ? value : null;
        }
    }
}
