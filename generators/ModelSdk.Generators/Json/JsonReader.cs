using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ModelSdk.Generators.Json
{
    /// <summary>
    /// A small strict RFC 8259 reader. Hand-written because the generator must load in any compiler host,
    /// and System.Text.Json is not available (or not the same version) in all of them.
    /// </summary>
    internal sealed class JsonReader
    {
        // A manifest is a few levels deep; the bound keeps hostile input from overflowing the compiler's stack.
        private const int MaxDepth = 64;

        private readonly string _text;
        private int _pos;

        private JsonReader(string text)
        {
            _text = text;
        }

        /// <summary>Parses one JSON document. Throws <see cref="JsonReaderException"/> when it is malformed.</summary>
        public static JsonNode Parse(string text)
        {
            var reader = new JsonReader(text);
            if (text.Length > 0 && text[0] == '\uFEFF') reader._pos = 1;
            reader.SkipWhitespace();
            JsonNode root = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (reader._pos < text.Length) throw reader.Error("unexpected text after the end of the JSON document");
            return root;
        }

        private JsonNode ReadValue(int depth)
        {
            if (_pos >= _text.Length) throw Error("unexpected end of the file");
            char c = _text[_pos];
            switch (c)
            {
                case '{': return ReadObject(depth + 1);
                case '[': return ReadArray(depth + 1);
                case '"': return JsonNode.Scalar(JsonKind.String, _pos, ReadString());
                case 't': return ReadLiteral("true", JsonKind.True);
                case 'f': return ReadLiteral("false", JsonKind.False);
                case 'n': return ReadLiteral("null", JsonKind.Null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                    throw Error($"unexpected character '{c}'");
            }
        }

        private JsonNode ReadObject(int depth)
        {
            if (depth > MaxDepth) throw Error($"nesting is deeper than {MaxDepth} levels");
            int start = _pos++;
            var properties = new Dictionary<string, JsonNode>(System.StringComparer.Ordinal);
            SkipWhitespace();
            if (TryConsume('}')) return JsonNode.Object(start, properties);
            while (true)
            {
                SkipWhitespace();
                if (_pos >= _text.Length || _text[_pos] != '"') throw Error("expected a property name in double quotes");
                int nameStart = _pos;
                string name = ReadString();
                SkipWhitespace();
                Expect(':');
                SkipWhitespace();
                JsonNode value = ReadValue(depth);
                if (properties.ContainsKey(name)) throw new JsonReaderException($"property '{name}' appears twice", nameStart);
                properties.Add(name, value);
                SkipWhitespace();
                if (TryConsume('}')) return JsonNode.Object(start, properties);
                Expect(',');
            }
        }

        private JsonNode ReadArray(int depth)
        {
            if (depth > MaxDepth) throw Error($"nesting is deeper than {MaxDepth} levels");
            int start = _pos++;
            var items = new List<JsonNode>();
            SkipWhitespace();
            if (TryConsume(']')) return JsonNode.Array(start, items);
            while (true)
            {
                SkipWhitespace();
                items.Add(ReadValue(depth));
                SkipWhitespace();
                if (TryConsume(']')) return JsonNode.Array(start, items);
                Expect(',');
            }
        }

        private string ReadString()
        {
            _pos++; // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw Error("unterminated string");
                char c = _text[_pos++];
                if (c == '"') return sb.ToString();
                if (c < ' ') throw new JsonReaderException("control character in a string (escape it)", _pos - 1);
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                if (_pos >= _text.Length) throw Error("unterminated string");
                char e = _text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u': sb.Append(ReadHex4()); break;
                    default: throw new JsonReaderException($"invalid escape '\\{e}'", _pos - 2);
                }
            }
        }

        private char ReadHex4()
        {
            if (_pos + 4 > _text.Length ||
                !int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
            {
                throw Error("invalid \\u escape: expected four hex digits");
            }
            _pos += 4;
            return (char)code;
        }

        private JsonNode ReadNumber()
        {
            int start = _pos;
            TryConsume('-');
            if (TryConsume('0'))
            {
                // JSON forbids leading zeros such as 01.
            }
            else if (!ReadDigits())
            {
                throw Error("invalid number");
            }
            if (TryConsume('.') && !ReadDigits()) throw Error("invalid number: expected digits after '.'");
            if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
            {
                _pos++;
                if (!TryConsume('+')) TryConsume('-');
                if (!ReadDigits()) throw Error("invalid number: expected digits in the exponent");
            }
            return JsonNode.Scalar(JsonKind.Number, start, _text.Substring(start, _pos - start));
        }

        private bool ReadDigits()
        {
            int start = _pos;
            while (_pos < _text.Length && _text[_pos] >= '0' && _text[_pos] <= '9') _pos++;
            return _pos > start;
        }

        private JsonNode ReadLiteral(string literal, JsonKind kind)
        {
            if (string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0) throw Error("invalid literal");
            int start = _pos;
            _pos += literal.Length;
            return JsonNode.Scalar(kind, start, null);
        }

        private void SkipWhitespace()
        {
            while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r')) _pos++;
        }

        private bool TryConsume(char c)
        {
            if (_pos < _text.Length && _text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private void Expect(char c)
        {
            if (!TryConsume(c)) throw Error(_pos < _text.Length ? $"expected '{c}' but found '{_text[_pos]}'" : $"expected '{c}' but the file ended");
        }

        private JsonReaderException Error(string message) => new JsonReaderException(message, _pos);
    }
}
