using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>A recursive-descent reader for <see cref="Json.Parse"/>.</summary>
    internal sealed class JsonReader
    {
        private readonly string _text;
        private int _position;

        public JsonReader(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            _text = text;
        }

        public bool AtEnd
        {
            get { return _position >= _text.Length; }
        }

        public FormatException Error(string message)
        {
            return new FormatException("invalid JSON at offset " + _position + ": " + message);
        }

        public void SkipWhitespace()
        {
            while (_position < _text.Length)
            {
                char c = _text[_position];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
                _position++;
            }
        }

        public object ReadValue()
        {
            SkipWhitespace();
            if (AtEnd) throw Error("unexpected end of input");
            char c = _text[_position];
            switch (c)
            {
                case '{': return ReadObject();
                case '[': return ReadArray();
                case '"': return ReadString();
                case 't': Expect("true"); return true;
                case 'f': Expect("false"); return false;
                case 'n': Expect("null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                    throw Error("unexpected character '" + c + "'");
            }
        }

        private void Expect(string literal)
        {
            if (string.CompareOrdinal(_text, _position, literal, 0, literal.Length) != 0)
            {
                throw Error("expected " + literal);
            }
            _position += literal.Length;
        }

        private Dictionary<string, object> ReadObject()
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            _position++; // '{'
            SkipWhitespace();
            if (!AtEnd && _text[_position] == '}')
            {
                _position++;
                return result;
            }
            while (true)
            {
                SkipWhitespace();
                if (AtEnd || _text[_position] != '"') throw Error("expected a string key");
                string key = ReadString();
                SkipWhitespace();
                if (AtEnd || _text[_position] != ':') throw Error("expected ':'");
                _position++;
                result[key] = ReadValue();
                SkipWhitespace();
                if (AtEnd) throw Error("unterminated object");
                char c = _text[_position++];
                if (c == '}') return result;
                if (c != ',') throw Error("expected ',' or '}'");
            }
        }

        private List<object> ReadArray()
        {
            var result = new List<object>();
            _position++; // '['
            SkipWhitespace();
            if (!AtEnd && _text[_position] == ']')
            {
                _position++;
                return result;
            }
            while (true)
            {
                result.Add(ReadValue());
                SkipWhitespace();
                if (AtEnd) throw Error("unterminated array");
                char c = _text[_position++];
                if (c == ']') return result;
                if (c != ',') throw Error("expected ',' or ']'");
            }
        }

        private string ReadString()
        {
            _position++; // opening quote
            var output = new StringBuilder();
            while (true)
            {
                if (AtEnd) throw Error("unterminated string");
                char c = _text[_position++];
                if (c == '"') return output.ToString();
                if (c != '\\')
                {
                    output.Append(c);
                    continue;
                }
                if (AtEnd) throw Error("unterminated escape");
                char escape = _text[_position++];
                switch (escape)
                {
                    case '"': output.Append('"'); break;
                    case '\\': output.Append('\\'); break;
                    case '/': output.Append('/'); break;
                    case 'b': output.Append('\b'); break;
                    case 'f': output.Append('\f'); break;
                    case 'n': output.Append('\n'); break;
                    case 'r': output.Append('\r'); break;
                    case 't': output.Append('\t'); break;
                    case 'u':
                        if (_position + 4 > _text.Length) throw Error("short \\u escape");
                        int code;
                        if (!int.TryParse(_text.Substring(_position, 4), NumberStyles.AllowHexSpecifier,
                                CultureInfo.InvariantCulture, out code))
                        {
                            throw Error("bad \\u escape");
                        }
                        output.Append((char)code);
                        _position += 4;
                        break;
                    default:
                        throw Error("unknown escape \\" + escape);
                }
            }
        }

        private double ReadNumber()
        {
            int start = _position;
            while (_position < _text.Length)
            {
                char c = _text[_position];
                if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')
                {
                    _position++;
                }
                else
                {
                    break;
                }
            }
            double value;
            if (!double.TryParse(_text.Substring(start, _position - start), NumberStyles.Float,
                    CultureInfo.InvariantCulture, out value))
            {
                throw Error("bad number");
            }
            return value;
        }
    }
}
