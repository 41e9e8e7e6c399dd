using System;
using System.Globalization;

namespace Fillbook.Exporter
{
    /// <summary>
    /// How long to wait before sending a batch again after a network error, a 5xx or a 429:
    /// capped exponential back-off with jitter, or exactly what the service asked for in
    /// Retry-After.
    /// </summary>
    public sealed class RetryPolicy
    {
        public RetryPolicy()
        {
            BaseDelay = TimeSpan.FromMilliseconds(500);
            MaxDelay = TimeSpan.FromSeconds(30);
            MaxRetryAfter = TimeSpan.FromMinutes(5);
        }

        /// <summary>The back-off before the first retry (before jitter).</summary>
        public TimeSpan BaseDelay { get; set; }

        /// <summary>The back-off never grows past this.</summary>
        public TimeSpan MaxDelay { get; set; }

        /// <summary>A Retry-After longer than this is cut to it (a wrong header must not park the sender for a day).</summary>
        public TimeSpan MaxRetryAfter { get; set; }

        /// <summary>
        /// The wait before retry number <paramref name="attempt"/> + 1 (attempt 0 is the wait
        /// after the first failure). Without Retry-After: "equal jitter", a uniform draw from
        /// [d/2, d] with d = min(MaxDelay, BaseDelay * 2^attempt), so that exporters failing
        /// together do not retry together, yet never retry immediately. With Retry-After: that
        /// delay, capped at MaxRetryAfter.
        /// </summary>
        /// <param name="random01">a draw from [0, 1): the jitter (injected so tests are exact)</param>
        public TimeSpan Delay(int attempt, TimeSpan? retryAfter, double random01)
        {
            if (attempt < 0) throw new ArgumentOutOfRangeException("attempt", "attempt must be >= 0, got " + attempt);
            if (random01 < 0 || random01 >= 1)
            {
                throw new ArgumentOutOfRangeException("random01", "random01 must be in [0, 1), got " + random01);
            }
            if (retryAfter.HasValue)
            {
                TimeSpan asked = retryAfter.Value < TimeSpan.Zero ? TimeSpan.Zero : retryAfter.Value;
                return asked > MaxRetryAfter ? MaxRetryAfter : asked;
            }
            double capTicks = MaxDelay.Ticks;
            // 2^attempt overflows a double only far past the cap, so clamp the exponent first.
            double exponential = BaseDelay.Ticks * Math.Pow(2, Math.Min(attempt, 62));
            double ceiling = Math.Min(capTicks, exponential);
            return TimeSpan.FromTicks((long)(ceiling / 2 + random01 * ceiling / 2));
        }
    }

    /// <summary>The HTTP Retry-After header.</summary>
    public static class RetryAfter
    {
        /// <summary>
        /// The delay a Retry-After value asks for: delta-seconds ("120") or an HTTP-date
        /// ("Wed, 21 Oct 2015 07:28:00 GMT", measured from <paramref name="nowUtc"/>; a date in
        /// the past means now). Null when the header is absent or unreadable.
        /// </summary>
        public static TimeSpan? Parse(string value, DateTime nowUtc)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            value = value.Trim();
            long seconds;
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out seconds))
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.MaxValue.TotalSeconds - 1));
            }
            DateTime date;
            if (DateTime.TryParseExact(value, "r", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date))
            {
                TimeSpan delay = date - nowUtc;
                return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
            }
            return null;
        }
    }
}
