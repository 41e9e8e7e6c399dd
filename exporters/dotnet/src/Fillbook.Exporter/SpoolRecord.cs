using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>The spool file's record format: checksums and acknowledged-sequence ranges.</summary>
    internal static class SpoolRecord
    {
        /// <summary>Appends one record line: the record, a tab, its checksum, a newline.</summary>
        internal static void AppendRecord(StringBuilder output, string record)
        {
            output.Append(record).Append('\t').Append(Checksum(record)).Append('\n');
        }

        /// <summary>FNV-1a over the record's UTF-16 code units, as 8 hex digits.</summary>
        internal static string Checksum(string record)
        {
            uint hash = 2166136261;
            foreach (char c in record)
            {
                hash ^= c;
                hash *= 16777619;
            }
            return hash.ToString("x8", CultureInfo.InvariantCulture);
        }

        /// <summary>Sequences as sorted ranges: 1, 2, 3, 5 becomes "1-3,5".</summary>
        internal static string FormatRanges(ICollection<long> sequences)
        {
            var sorted = new List<long>(sequences);
            sorted.Sort();
            var output = new StringBuilder();
            int i = 0;
            while (i < sorted.Count)
            {
                long first = sorted[i];
                long last = first;
                while (i + 1 < sorted.Count && sorted[i + 1] <= last + 1)
                {
                    last = sorted[++i];
                }
                i++;
                if (output.Length > 0) output.Append(',');
                output.Append(first.ToString(CultureInfo.InvariantCulture));
                if (last != first) output.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
            }
            return output.ToString();
        }

        /// <summary>The sequences of a <see cref="FormatRanges"/> text.</summary>
        internal static IEnumerable<long> ParseRanges(string text)
        {
            foreach (string part in text.Split(','))
            {
                int dash = part.IndexOf('-');
                long first = long.Parse(dash < 0 ? part : part.Substring(0, dash), CultureInfo.InvariantCulture);
                long last = dash < 0 ? first : long.Parse(part.Substring(dash + 1), CultureInfo.InvariantCulture);
                for (long sequence = first; sequence <= last; sequence++) yield return sequence;
            }
        }
    }
}
