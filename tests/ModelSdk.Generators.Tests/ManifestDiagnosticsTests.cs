using Microsoft.CodeAnalysis;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

/// <summary>A bad manifest is a clear error at the file, never an exception or a silently missing class.</summary>
public sealed class ManifestDiagnosticsTests
{
    [Theory]
    [InlineData("{ \"schema\": ", "malformed JSON")]
    [InlineData("[1, 2]", "the top level must be a JSON object")]
    [InlineData("", "unexpected end of the file")]
    public void MalformedJson_ReportsMsdk1501(string json, string problem)
    {
        Diagnostic diagnostic = SingleDiagnostic(json, "MSDK1501");
        Assert.Contains(problem, diagnostic.GetMessage());
    }

    [Theory]
    [InlineData("\"className\": \"Stories15M\",", "required property 'className' is missing")]
    [InlineData("\"artifact\": \"stories15M.msdk\"", "required property 'artifact' is missing")]
    [InlineData("\"dim\": 288,", "required property 'config.dim' is missing")]
    public void MissingRequiredProperty_ReportsMsdk1501(string removed, string problem)
    {
        string json = Manifests.Stories15M().Replace(removed, "");
        json = System.Text.RegularExpressions.Regex.Replace(json, @",\s*}", "}"); // keep the JSON well-formed when the last property goes
        Assert.Contains(problem, SingleDiagnostic(json, "MSDK1501").GetMessage());
    }

    [Theory]
    [InlineData("\"className\": \"Stories15M\"", "\"className\": \"3D-Model\"", "className '3D-Model' is not a valid C# identifier")]
    [InlineData("\"className\": \"Stories15M\"", "\"className\": \"class\"", "className 'class' is not a valid C# identifier")]
    [InlineData("\"className\": \"Stories15M\"", "\"className\": \"Model\"", "className 'Model' is the name of a generated member")]
    [InlineData("\"className\": \"Stories15M\"", "\"className\": 15", "'className' must be a string, found a number")]
    [InlineData("\"namespace\": \"TinyStories\"", "\"namespace\": \"Tiny Stories\"", "namespace 'Tiny Stories' is not a valid C# namespace name")]
    [InlineData("\"dim\": 288", "\"dim\": 288.5", "config.dim must be a positive 32-bit integer, found 288.5")]
    [InlineData("\"dim\": 288", "\"dim\": -288", "config.dim must be a positive 32-bit integer, found -288")]
    [InlineData("\"dim\": 288", "\"dim\": 9999999999", "config.dim must be a positive 32-bit integer")]
    [InlineData("\"dim\": 288", "\"dim\": \"288\"", "'config.dim' must be a number, found a string")]
    [InlineData("\"dim\": 288", "\"dim\": 290", "config.heads (6) does not divide config.dim (290)")]
    [InlineData("\"kvHeads\": 6", "\"kvHeads\": 4", "config.kvHeads (4) does not divide config.heads (6)")]
    [InlineData("\"eosId\": 2", "\"eosId\": 32000", "tokenizer.eosId must be an integer in 0..31999")]
    [InlineData("\"weightFormat\": \"f32\"", "\"weightFormat\": \"\"", "'weightFormat' must not be empty")]
    public void InvalidValue_ReportsMsdk1501(string original, string replacement, string problem)
    {
        string json = Manifests.Stories15M();
        Assert.Contains(original, json);
        Assert.Contains(problem, SingleDiagnostic(json.Replace(original, replacement), "MSDK1501").GetMessage());
    }

    [Fact]
    public void Msdk1501_NamesTheFile_AndPointsAtTheProblem()
    {
        string json = Manifests.Stories15M().Replace("\"layers\": 6", "\"layers\": 0");
        Diagnostic diagnostic = SingleDiagnostic(json, "MSDK1501");

        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains(Manifests.Stories15MPath, diagnostic.GetMessage());
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal(Manifests.Stories15MPath, span.Path);
        int expectedLine = json.Split('\n').ToList().FindIndex(line => line.Contains("\"layers\""));
        Assert.Equal(expectedLine, span.StartLinePosition.Line);
        Assert.Equal("docs/diagnostics/MSDK1501.md", diagnostic.Descriptor.HelpLinkUri);
    }

    [Fact]
    public void UnknownSchema_ReportsMsdk1502()
    {
        Diagnostic diagnostic = SingleDiagnostic(Manifests.Stories15M(schema: "modelsdk.manifest/2"), "MSDK1502");

        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        string message = diagnostic.GetMessage();
        Assert.Contains(Manifests.Stories15MPath, message);
        Assert.Contains("'modelsdk.manifest/2'", message);
        Assert.Contains("'modelsdk.manifest/1'", message);
        Assert.Contains("rebuild", message);
        Assert.Equal(1, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void UnknownSchema_WinsOverOtherProblems()
    {
        // A future schema may legitimately lack today's properties: say "incompatible", not "missing className".
        string json = Manifests.Stories15M(schema: "modelsdk.manifest/9").Replace("\"className\": \"Stories15M\",", "");
        SingleDiagnostic(json, "MSDK1502");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoManifestsForTheSameClass_ReportMsdk1503_OnTheLaterPath_WhateverTheOrder(bool reversed)
    {
        AdditionalText[] manifests =
        [
            new InMemoryAdditionalText("obj/a/stories15M.msdk.json", Manifests.Stories15M()),
            new InMemoryAdditionalText("obj/b/stories15M.msdk.json", Manifests.Stories15M()),
        ];
        if (reversed) Array.Reverse(manifests);

        (GeneratorRunResult result, _) = GeneratorHarness.Run(manifests);

        Assert.Single(result.GeneratedSources);
        Diagnostic diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("MSDK1503", diagnostic.Id);
        Assert.Equal("obj/b/stories15M.msdk.json", diagnostic.Location.GetLineSpan().Path);
        Assert.Contains("TinyStories.Stories15M", diagnostic.GetMessage());
    }

    [Fact]
    public void UnknownProperties_AreIgnored()
    {
        string json = Manifests.Stories15M().Replace(
            "\"name\": \"stories15M\",",
            "\"name\": \"stories15M\", \"metrics\": { \"perplexity\": 1.5, \"tags\": [\"a\", null, true] }, \"future\": null,");
        (GeneratorRunResult result, _) = GeneratorHarness.Run(json);

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.GeneratedSources);
    }

    [Theory]
    [InlineData("obj/STORIES15M.MSDK.JSON", 1)]
    [InlineData("obj/stories15M.Msdk.Json", 1)]
    [InlineData("obj/stories15M.json", 0)]
    [InlineData("obj/stories15M.msdk", 0)]
    public void OnlyMsdkJsonFiles_AreRead_InAnyCase(string path, int expectedSources)
    {
        (GeneratorRunResult result, _) = GeneratorHarness.Run(Manifests.Stories15M(), path);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(expectedSources, result.GeneratedSources.Length);
    }

    private static Diagnostic SingleDiagnostic(string json, string id)
    {
        (GeneratorRunResult result, _) = GeneratorHarness.Run(json);
        Assert.Empty(result.GeneratedSources);
        Diagnostic diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(Manifests.Stories15MPath, diagnostic.Location.GetLineSpan().Path);
        return diagnostic;
    }
}
