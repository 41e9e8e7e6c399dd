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
}
