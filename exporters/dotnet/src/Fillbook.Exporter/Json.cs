using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>
    /// A small JSON writer: System.Text.Json is not on Mono and JavaScriptSerializer is not on
    /// .NET 8, so the exporter writes its few documents itself. Output is compact, UTF-16 text
    /// that encodes to valid UTF-8 (lone surrogates become U+FFFD instead of being dropped
    /// silently by the encoder).
    /// </summary>
    public static class Json
    {
        /// <summary>Appends <paramref name="value"/> as a JSON string literal.</summary>
        public static void WriteString(StringBuilder output, string value)
        {
            if (value == null)
            {
                output.Append("null");
                return;
            }
            output.Append('"');
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                switch (c)
                {
                    case '"': output.Append("\\\""); break;
                    case '\\': output.Append("\\\\"); break;
                    case '\n': output.Append("\\n"); break;
                    case '\r': output.Append("\\r"); break;
                    case '\t': output.Append("\\t"); break;
                    case '\b': output.Append("\\b"); break;
                    case '\f': output.Append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                        {
                            output.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else if (char.IsHighSurrogate(c))
                        {
                            if (i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                            {
                                output.Append(c).Append(value[i + 1]);
                                i++;
                            }
                            else
                            {
                                output.Append('\uFFFD');
                            }
                        }
                        else if (char.IsLowSurrogate(c))
                        {
                            output.Append('\uFFFD');
                        }
                        else
                        {
                            output.Append(c);
                        }
                        break;
                }
            }
            output.Append('"');
        }

        /// <summary>The JSON string literal of <paramref name="value"/>.</summary>
        public static string Quote(string value)
        {
            var output = new StringBuilder(value == null ? 4 : value.Length + 2);
            WriteString(output, value);
            return output.ToString();
        }

        /// <summary>
        /// Appends a finite number in the shortest form that reads back to the same double
        /// (invariant culture: a German Windows must not write "4700,25").
        /// </summary>
        public static void WriteNumber(StringBuilder output, double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                throw new ArgumentException("numbers must be finite (JSON has no NaN or Infinity), got " + value);
            }
            output.Append(value.ToString("R", CultureInfo.InvariantCulture));
        }

        public static void WriteNumber(StringBuilder output, long value)
        {
            output.Append(value.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>
        /// Appends any of: null, string, bool, the .NET number types, an IDictionary with string
        /// keys (an object) or another IEnumerable (an array). Used for free-form values such as
        /// a run's params.
        /// </summary>
        public static void WriteValue(StringBuilder output, object value)
        {
            if (value == null)
            {
                output.Append("null");
                return;
            }
            var text = value as string;
            if (text != null)
            {
                WriteString(output, text);
                return;
            }
            if (value is bool)
            {
                output.Append((bool)value ? "true" : "false");
                return;
            }
            if (value is int || value is long || value is short || value is byte || value is sbyte
                || value is uint || value is ushort)
            {
                WriteNumber(output, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return;
            }
            if (value is ulong)
            {
                output.Append(((ulong)value).ToString(CultureInfo.InvariantCulture));
                return;
            }
            if (value is double || value is float)
            {
                WriteNumber(output, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                return;
            }
            if (value is decimal)
            {
                output.Append(((decimal)value).ToString(CultureInfo.InvariantCulture));
                return;
            }
            var dictionary = value as IDictionary;
            if (dictionary != null)
            {
                output.Append('{');
                bool first = true;
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = entry.Key as string;
                    if (key == null)
                    {
                        throw new ArgumentException("JSON object keys must be strings, got " + entry.Key);
                    }
                    if (!first) output.Append(',');
                    first = false;
                    WriteString(output, key);
                    output.Append(':');
                    WriteValue(output, entry.Value);
                }
                output.Append('}');
                return;
            }
            var sequence = value as IEnumerable;
            if (sequence != null)
            {
                output.Append('[');
                bool first = true;
                foreach (object item in sequence)
                {
                    if (!first) output.Append(',');
                    first = false;
                    WriteValue(output, item);
                }
                output.Append(']');
                return;
            }
            throw new ArgumentException("cannot write a " + value.GetType().FullName + " as JSON");
        }

        /// <summary>The JSON text of <paramref name="value"/> (see <see cref="WriteValue"/>).</summary>
        public static string Serialize(object value)
        {
            var output = new StringBuilder();
            WriteValue(output, value);
            return output.ToString();
        }

        /// <summary>
        /// Parses a JSON document into Dictionary&lt;string, object&gt;, List&lt;object&gt;,
        /// string, double, bool or null. Enough for the ingest response; not a general library.
        /// </summary>
        public static object Parse(string text)
        {
            var reader = new JsonReader(text);
            object value = reader.ReadValue();
            reader.SkipWhitespace();
            if (!reader.AtEnd)
            {
                throw reader.Error("unexpected text after the document");
            }
            return value;
        }
    }
}
