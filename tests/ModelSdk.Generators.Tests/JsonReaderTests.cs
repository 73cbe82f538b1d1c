using ModelSdk.Generators.Json;

namespace ModelSdk.Generators.Tests;

/// <summary>The generator's own JSON reader: strict where a manifest could be damaged, complete where STJ may write it.</summary>
public sealed class JsonReaderTests
{
    [Fact]
    public void ReadsEscapes_IncludingSurrogatePairs()
    {
        JsonNode node = JsonReader.Parse("{\"s\": \"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}");

        Assert.Equal("a\"\\/\b\f\n\r\t\u00e9\U0001F600", node.Property("s")!.Text);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-12", "-12")]
    [InlineData("1E-05", "1E-05")]
    [InlineData("3.25e+2", "3.25e+2")]
    public void KeepsRawNumberText(string json, string expected)
    {
        JsonNode node = JsonReader.Parse(json);

        Assert.Equal(JsonKind.Number, node.Kind);
        Assert.Equal(expected, node.Text);
    }

    [Fact]
    public void SkipsByteOrderMark_AndReadsNestedValues()
    {
        JsonNode node = JsonReader.Parse("\uFEFF{ \"a\": [ { \"b\": null }, true, false ], \"c\": {} }");

        Assert.Equal(3, node.Property("a")!.Items!.Count);
        Assert.Equal(JsonKind.Null, node.Property("a")!.Items![0].Property("b")!.Kind);
        Assert.Equal(JsonKind.Object, node.Property("c")!.Kind);
        Assert.Null(node.Property("missing"));
    }

    [Theory]
    [InlineData("{\"a\": 1,}", "expected a property name")]
    [InlineData("[1, 2,]", "unexpected character ']'")]
    [InlineData("{\"a\": 01}", "expected ',' but found '1'")]
    [InlineData("{\"a\": 1} x", "unexpected text after the end")]
    [InlineData("{\"a\": 1, \"a\": 2}", "property 'a' appears twice")]
    [InlineData("{\"a\": \"x\ny\"}", "control character in a string")]
    [InlineData("{\"a\": \"\\x\"}", "invalid escape")]
    [InlineData("{\"a\": \"\\u12\"}", "invalid \\u escape")]
    [InlineData("{\"a\": tru}", "invalid literal")]
    [InlineData("{\"a\": 1.}", "expected digits after '.'")]
    [InlineData("{'a': 1}", "expected a property name in double quotes")]
    [InlineData("{\"a\": \"open", "unterminated string")]
    public void RejectsMalformedJson(string json, string problem)
    {
        var e = Assert.Throws<JsonReaderException>(() => JsonReader.Parse(json));

        Assert.Contains(problem, e.Message);
        Assert.InRange(e.Position, 0, json.Length);
    }

    [Fact]
    public void RejectsDeepNesting_WithoutOverflowingTheStack()
    {
        string json = new string('[', 100_000) + new string(']', 100_000);

        var e = Assert.Throws<JsonReaderException>(() => JsonReader.Parse(json));

        Assert.Contains("nesting is deeper than", e.Message);
    }
}
