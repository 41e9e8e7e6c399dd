using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>
    /// Deterministic ids for events the caller gave none: the same event stream produces the
    /// same ids, so a process that restarts and replays its events (platforms resend today's
    /// fills on reconnect) sends duplicates the service ignores, not new fills.
    /// </summary>
    /// <remarks>
    /// id = "fb-" + the first 32 hex digits of SHA-256(source, run key, event type, the event's
    /// JSON without id, n), where n counts earlier events of this stream with the same content:
    /// two genuinely identical fills (same time, side, qty, price) stay two fills.
    /// </remarks>
    public sealed class EventIds
    {
        private readonly object _lock = new object();
        private readonly string _scope;
        private readonly Dictionary<string, int> _occurrences = new Dictionary<string, int>(StringComparer.Ordinal);

        public EventIds(string source, string runKey)
        {
            _scope = (source ?? "") + "\n" + (runKey ?? "") + "\n";
        }

        /// <summary>The id of the next event with this type and canonical content.</summary>
        public string Next(string type, string canonicalJson)
        {
            string content = type + "\n" + canonicalJson;
            int occurrence;
            lock (_lock)
            {
                _occurrences.TryGetValue(content, out occurrence);
                _occurrences[content] = occurrence + 1;
            }
            return Derive(_scope + content, occurrence);
        }

        private static string Derive(string content, int occurrence)
        {
            byte[] input = Encoding.UTF8.GetBytes(content + "\n" + occurrence);
            byte[] hash;
            using (SHA256 sha = SHA256.Create())
            {
                hash = sha.ComputeHash(input);
            }
            var id = new StringBuilder("fb-", 35);
            for (int i = 0; i < 16; i++)
            {
                id.Append(hash[i].ToString("x2"));
            }
            return id.ToString();
        }
    }
}
