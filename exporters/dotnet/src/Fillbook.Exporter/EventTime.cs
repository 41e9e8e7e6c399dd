using System;
using System.Globalization;

namespace Fillbook.Exporter
{
    /// <summary>
    /// An event's <c>ts</c>: an instant with an explicit offset, or epoch nanoseconds, as the
    /// ingest contract requires. A <see cref="DateTime"/> converts only when its Kind is Utc:
    /// platform times are usually in the platform's own zone, and a silent conversion through
    /// the machine's local zone is exactly the bug this type exists to prevent (convert with
    /// <see cref="PlatformTime.ToUtc"/> first). Every EventTime is in the service's domain
    /// (<see cref="InputDomain.CheckInstant"/>): on or after 1970-01-01 and before 2200-01-01 UTC.
    /// </summary>
    public struct EventTime : IEquatable<EventTime>
    {
        private const long UnixEpochTicks = 621355968000000000L; // 1970-01-01T00:00:00Z
        private readonly DateTimeOffset _instant;
        private readonly long _epochNanoseconds;
        private readonly bool _isNanoseconds;

        private EventTime(DateTimeOffset instant, long epochNanoseconds, bool isNanoseconds)
        {
            _instant = instant;
            _epochNanoseconds = epochNanoseconds;
            _isNanoseconds = isNanoseconds;
        }

        public static EventTime FromDateTimeOffset(DateTimeOffset instant)
        {
            return new EventTime(InputDomain.CheckInstant(instant), 0, false);
        }

        /// <summary>A UTC <see cref="DateTime"/>; any other Kind is refused.</summary>
        public static EventTime FromUtc(DateTime utc)
        {
            if (utc.Kind != DateTimeKind.Utc)
            {
                throw new ArgumentException(
                    "a DateTime ts must have Kind Utc, got Kind " + utc.Kind + " (" +
                    utc.ToString("o", CultureInfo.InvariantCulture) +
                    "); convert platform times with PlatformTime.ToUtc");
            }
            return new EventTime(InputDomain.CheckInstant(new DateTimeOffset(utc)), 0, false);
        }

        /// <summary>
        /// Nanoseconds since 1970-01-01T00:00:00Z, sent as an integer: at least 10^17
        /// (smaller integers look like seconds, milliseconds or microseconds), before 2200-01-01.
        /// </summary>
        public static EventTime FromEpochNanoseconds(long nanoseconds)
        {
            return new EventTime(default(DateTimeOffset), InputDomain.CheckEpochNanoseconds(nanoseconds), true);
        }

        public static implicit operator EventTime(DateTimeOffset instant)
        {
            return FromDateTimeOffset(instant);
        }

        public static implicit operator EventTime(DateTime utc)
        {
            return FromUtc(utc);
        }

        /// <summary>The instant in UTC (nanoseconds below 100 ns are truncated).</summary>
        public DateTimeOffset ToDateTimeOffset()
        {
            if (!_isNanoseconds) return _instant;
            return new DateTimeOffset(UnixEpochTicks + _epochNanoseconds / 100, TimeSpan.Zero);
        }

        /// <summary>
        /// The JSON value: an ISO-8601 string with 'Z' or ±HH:MM (7 fractional digits, trailing
        /// zeros trimmed), or the integer of epoch nanoseconds.
        /// </summary>
        public string ToJson()
        {
            if (_isNanoseconds)
            {
                return _epochNanoseconds.ToString(CultureInfo.InvariantCulture);
            }
            // default(EventTime) skipped the factories' check: it is 0001-01-01, refused here.
            InputDomain.CheckInstant(_instant);
            return Json.Quote(ToIsoString());
        }

        public string ToIsoString()
        {
            if (_isNanoseconds)
            {
                return ToDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
            }
            string local = _instant.DateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
            TimeSpan offset = _instant.Offset;
            if (offset == TimeSpan.Zero)
            {
                return local + "Z";
            }
            string sign = offset < TimeSpan.Zero ? "-" : "+";
            TimeSpan magnitude = offset.Duration();
            return local + sign + magnitude.Hours.ToString("00", CultureInfo.InvariantCulture) + ":" +
                   magnitude.Minutes.ToString("00", CultureInfo.InvariantCulture);
        }

        public bool Equals(EventTime other)
        {
            return _isNanoseconds == other._isNanoseconds && _epochNanoseconds == other._epochNanoseconds &&
                   _instant.Equals(other._instant) && _instant.Offset == other._instant.Offset;
        }

        public override bool Equals(object obj)
        {
            return obj is EventTime && Equals((EventTime)obj);
        }

        public override int GetHashCode()
        {
            return _isNanoseconds ? _epochNanoseconds.GetHashCode() : _instant.GetHashCode();
        }

        public override string ToString()
        {
            return ToIsoString();
        }
    }
}
