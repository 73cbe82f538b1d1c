using System.Collections.Generic;

namespace ModelSdk.Generators.Json
{
    internal enum JsonKind
    {
        Object,
        Array,
        String,
        Number,
        True,
        False,
        Null,
    }

    /// <summary>
    /// One parsed JSON value with its position in the text, so manifest errors can point at the offending value.
    /// Numbers keep their raw text: the parser decides whether an integer is wanted.
    /// </summary>
    internal sealed class JsonNode
    {
        private readonly Dictionary<string, JsonNode>? _properties;

        private JsonNode(JsonKind kind, int start, string? text, Dictionary<string, JsonNode>? properties, List<JsonNode>? items)
        {
            Kind = kind;
            Start = start;
            Text = text;
            _properties = properties;
            Items = items;
        }

        public JsonKind Kind { get; }

        /// <summary>Offset of the value's first character in the manifest text.</summary>
        public int Start { get; }

        /// <summary>The decoded string, or the raw number text; null for other kinds.</summary>
        public string? Text { get; }

        /// <summary>The elements of an array; null for other kinds.</summary>
        public IReadOnlyList<JsonNode>? Items { get; }

        public static JsonNode Object(int start, Dictionary<string, JsonNode> properties) => new JsonNode(JsonKind.Object, start, null, properties, null);

        public static JsonNode Array(int start, List<JsonNode> items) => new JsonNode(JsonKind.Array, start, null, null, items);

        public static JsonNode Scalar(JsonKind kind, int start, string? text) => new JsonNode(kind, start, text, null, null);

        /// <summary>The named property of an object; null when absent or when this is not an object.</summary>
        public JsonNode? Property(string name) =>
            _properties != null && _properties.TryGetValue(name, out JsonNode? value) ? value : null;
    }
}
