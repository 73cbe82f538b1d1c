using Microsoft.CodeAnalysis;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

/// <summary>A manifest with the build's quality metrics gives the class a nested <c>Quality</c> class of constants.</summary>
public sealed class QualityConstantsTests
{
    private static string WithMetrics(string metrics)
        => Manifests.Stories15M().Replace("\"weightFormat\": \"f32\",", "\"weightFormat\": \"q4_g32_sym\",\n  \"metrics\": " + metrics + ",");

    private const string Metrics = """
        {
            "text": "dev.txt",
            "tokens": 26540,
            "perplexity": 3.6522563693229646,
            "referencePerplexity": 3.3450410277600393,
            "perplexityIncrease": 0.09184202495975002,
            "klDivergence": 0.11069172766167301,
            "top1Agreement": 0.863413715146948
          }
        """;

    [Fact]
    public void Metrics_BecomeQualityConstants_WithTheManifestValues()
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(WithMetrics(Metrics));
        Assert.Empty(result.Diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        INamedTypeSymbol quality = output.GetTypeByMetadataName("TinyStories.Stories15M+Quality")!;
        Assert.NotNull(quality);
        object? Constant(string name) => quality.GetMembers(name).OfType<IFieldSymbol>().Single().ConstantValue;
        Assert.Equal(3.6522563693229646, Constant("Perplexity"));
        Assert.Equal(3.3450410277600393, Constant("ReferencePerplexity"));
        Assert.Equal(0.09184202495975002, Constant("PerplexityIncrease"));
        Assert.Equal(0.11069172766167301, Constant("KlDivergence"));
        Assert.Equal(0.863413715146948, Constant("Top1Agreement"));
        Assert.Equal(26540, Constant("Tokens"));
        Assert.Equal("dev.txt", Constant("EvaluationText"));
    }

    [Fact]
    public void NoMetrics_NoQualityClass()
    {
        (_, Compilation output) = GeneratorHarness.Run(Manifests.Stories15M());
        Assert.Null(output.GetTypeByMetadataName("TinyStories.Stories15M+Quality"));
    }

    [Fact]
    public void MetricsOfAnotherShape_AreIgnored_LikeAnyUnknownProperty()
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(WithMetrics("""{ "text": "dev.txt", "tokens": 1, "perplexity": "high" }"""));
        Assert.Empty(result.Diagnostics);
        Assert.Null(output.GetTypeByMetadataName("TinyStories.Stories15M+Quality"));
    }
}
