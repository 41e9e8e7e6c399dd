using System;
using System.Globalization;

namespace Fillbook.Exporter
{
    /// <summary>
    /// The service's input domain: the times, amounts and timeframes it accepts. The exporter
    /// checks every event against it in the call that builds the event, so a value the service
    /// would refuse (and dead-letter, long after the platform callback returned) fails at once
    /// with an <see cref="ArgumentOutOfRangeException"/> whose message names the field, the
    /// value and the limit, e.g. "qty must be at least 1e-08 (the smallest amount counted),
    /// got 1E-09". Its ParamName is the contract's field name (qty, limit_price, ts).
    /// </summary>
    /// <remarks>
    /// The constants mirror backend/ingest/domain.py (MAX_TS_NS, MIN_AMOUNT, MAX_AMOUNT,
    /// MAX_CAPITAL, MAX_TIMEFRAME_SECONDS); tests/exporters/dotnet/test_input_domain.py reads
    /// them from this file and asserts they equal the backend's, so change both together.
    /// Amounts are counted in 1e-8 units, exact for doubles up to 2^53 / 1e8 (~9.007e7): hence
    /// at most 90,000,000, and at least 1e-8 where an amount must be positive (a smaller one
    /// would be counted as 0).
    /// </remarks>
    public static class InputDomain
    {
        /// <summary>Integer times below 10^17 (1973-03-03) look like seconds, milliseconds or
        /// microseconds and are refused (backend/ingest/timestamps.py).</summary>
        public const long MinEpochNanoseconds = 100000000000000000L;

        /// <summary>2200-01-01T00:00:00Z in epoch nanoseconds; times must be before it.</summary>
        public const long MaxTsNs = 7258118400000000000L;

        public const string MaxTsText = "2200-01-01T00:00:00Z";

        /// <summary>The smallest amount counted (1e-8).</summary>
        public const double MinAmount = 1e-8;

        /// <summary>The largest quantity, price, multiplier, tick size or commission.</summary>
        public const double MaxAmount = 90000000.0;

        /// <summary>The largest initial capital of a run.</summary>
        public const double MaxCapital = 10000000000.0;

        /// <summary>366 days: the longest timeframe.</summary>
        public const long MaxTimeframeSeconds = 31622400L;

        private const string MinTsText = "1970-01-01T00:00:00Z";
        private const long UnixEpochTicks = 621355968000000000L; // 1970-01-01T00:00:00Z
        private const long MaxTicks = UnixEpochTicks + MaxTsNs / 100; // 2200-01-01T00:00:00Z

        /// <summary>Epoch nanoseconds the service stores: at least 10^17, before 2200-01-01.</summary>
        public static long CheckEpochNanoseconds(long nanoseconds)
        {
            // The service refuses integers that look like seconds, milliseconds or microseconds.
            if (nanoseconds < MinEpochNanoseconds)
            {
                throw new ArgumentException(
                    "epoch nanoseconds must be >= 10^17 (1973-03-03), got " + nanoseconds +
                    "; seconds, milliseconds and microseconds are refused by the service", "ts");
            }
            if (nanoseconds >= MaxTsNs)
            {
                throw new ArgumentOutOfRangeException("ts",
                    "ts must be before " + MaxTsText + " (epoch ns " + MaxTsNs + "), got " + nanoseconds);
            }
            return nanoseconds;
        }

        /// <summary>An instant the service stores: on or after 1970-01-01, before 2200-01-01 UTC.</summary>
        public static DateTimeOffset CheckInstant(DateTimeOffset instant)
        {
            long ticks = instant.UtcTicks;
            if (ticks < UnixEpochTicks)
            {
                throw new ArgumentOutOfRangeException("ts",
                    "ts must be on or after " + MinTsText + ", got " + Show(instant));
            }
            if (ticks >= MaxTicks)
            {
                throw new ArgumentOutOfRangeException("ts",
                    "ts must be before " + MaxTsText + ", got " + Show(instant));
            }
            return instant;
        }

        /// <summary>A quantity, price, multiplier or tick size: finite, in [1e-8, 90,000,000].</summary>
        public static double CheckPositiveAmount(string field, double value)
        {
            CheckFinite(field, value);
            if (value < MinAmount)
            {
                if (value <= 0)
                {
                    throw new ArgumentOutOfRangeException(field, field + " must be greater than 0, got " + Show(value));
                }
                throw new ArgumentOutOfRangeException(field,
                    field + " must be at least " + Show(MinAmount).ToLowerInvariant() +
                    " (the smallest amount counted), got " + Show(value));
            }
            return CheckMax(field, value, MaxAmount);
        }

        /// <summary>A commission or filled quantity: finite, in [0, 90,000,000].</summary>
        public static double CheckAmount(string field, double value)
        {
            CheckFinite(field, value);
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(field,
                    field + " must be greater than or equal to 0, got " + Show(value));
            }
            return CheckMax(field, value, MaxAmount);
        }

        /// <summary>A run's initial capital: finite, in [1e-8, 10,000,000,000].</summary>
        public static double CheckCapital(string field, double value)
        {
            CheckFinite(field, value);
            if (value < MinAmount)
            {
                throw new ArgumentOutOfRangeException(field,
                    field + " must be at least " + Show(MinAmount).ToLowerInvariant() + ", got " + Show(value));
            }
            return CheckMax(field, value, MaxCapital);
        }

        /// <summary>A bar volume: finite and >= 0 (not money, so no upper limit).</summary>
        public static double CheckVolume(string field, double value)
        {
            CheckFinite(field, value);
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(field,
                    field + " must be greater than or equal to 0, got " + Show(value));
            }
            return value;
        }

        /// <summary>
        /// The seconds of a timeframe such as "5m": a count from 1 to 999999 and a unit s, m, h
        /// or d (backend/market/timeframes.py), at most 366 days.
        /// </summary>
        public static long CheckTimeframe(string timeframe)
        {
            long seconds = TimeframeSeconds(timeframe);
            if (seconds < 0)
            {
                throw new ArgumentException(
                    "timeframe must be a positive number and a unit s, m, h or d (like '1s', '5m', '1h'), got '" +
                    timeframe + "'", "timeframe");
            }
            if (seconds > MaxTimeframeSeconds)
            {
                throw new ArgumentOutOfRangeException("timeframe",
                    "timeframe must be at most " + MaxTimeframeSeconds / 86400 + "d (" + MaxTimeframeSeconds +
                    " seconds), got '" + timeframe + "' (" + seconds + " seconds)");
            }
            return seconds;
        }

        /// <summary>The seconds of a well-formed timeframe, or -1.</summary>
        private static long TimeframeSeconds(string timeframe)
        {
            if (timeframe == null || timeframe.Length < 2 || timeframe.Length > 7) return -1;
            long count = 0;
            for (int i = 0; i < timeframe.Length - 1; i++)
            {
                char c = timeframe[i];
                if (c < '0' || c > '9' || (i == 0 && c == '0')) return -1;
                count = count * 10 + (c - '0');
            }
            switch (timeframe[timeframe.Length - 1])
            {
                case 's': return count;
                case 'm': return count * 60;
                case 'h': return count * 3600;
                case 'd': return count * 86400;
                default: return -1;
            }
        }

        private static void CheckFinite(string field, double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(field, field + " must be a finite number, got " + Show(value));
            }
        }

        private static double CheckMax(string field, double value, double limit)
        {
            if (value > limit)
            {
                throw new ArgumentOutOfRangeException(field,
                    field + " must be at most " + limit.ToString("N0", CultureInfo.InvariantCulture) +
                    ", got " + Show(value));
            }
            return value;
        }

        private static string Show(double value)
        {
            return value.ToString("R", CultureInfo.InvariantCulture);
        }

        private static string Show(DateTimeOffset instant)
        {
            return instant.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);
        }
    }
}
