using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>Builds one JSON object field by field, in the order the fields are added.</summary>
    public sealed class JsonObjectBuilder
    {
        private readonly StringBuilder _output = new StringBuilder(128);
        private bool _empty = true;

        public JsonObjectBuilder()
        {
            _output.Append('{');
        }

        private StringBuilder Name(string name)
        {
            if (!_empty) _output.Append(',');
            _empty = false;
            Json.WriteString(_output, name);
            return _output.Append(':');
        }

        public JsonObjectBuilder Add(string name, string value)
        {
            Json.WriteString(Name(name), value);
            return this;
        }

        public JsonObjectBuilder Add(string name, double value)
        {
            Json.WriteNumber(Name(name), value);
            return this;
        }

        public JsonObjectBuilder Add(string name, long value)
        {
            Json.WriteNumber(Name(name), value);
            return this;
        }

        public JsonObjectBuilder Add(string name, bool value)
        {
            Name(name).Append(value ? "true" : "false");
            return this;
        }

        /// <summary>Adds the field only when the value is not null (optional contract fields).</summary>
        public JsonObjectBuilder AddOptional(string name, string value)
        {
            return value == null ? this : Add(name, value);
        }

        public JsonObjectBuilder AddOptional(string name, double? value)
        {
            return value.HasValue ? Add(name, value.Value) : this;
        }

        public JsonObjectBuilder AddValue(string name, object value)
        {
            Json.WriteValue(Name(name), value);
            return this;
        }

        /// <summary>Adds text that is already JSON (a nested object built elsewhere).</summary>
        public JsonObjectBuilder AddRaw(string name, string json)
        {
            Name(name).Append(json);
            return this;
        }

        /// <summary>The object's fields without the surrounding braces.</summary>
        public string Fields()
        {
            return _output.ToString(1, _output.Length - 1);
        }

        public override string ToString()
        {
            return _output.ToString() + "}";
        }
    }
}
