using Microsoft.CodeAnalysis;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class GoldenFileTests
{
    [Fact]
    public void Stories15M_EmittedSource_MatchesGoldenFile()
    {
        (GeneratorRunResult result, _) = GeneratorHarness.Run(Manifests.Stories15M());

        GeneratedSourceResult generated = Assert.Single(result.GeneratedSources);
        Assert.Equal("TinyStories.Stories15M.g.cs", generated.HintName);
        Golden.AssertMatches("Stories15M.g.cs.txt", generated.SourceText.ToString());
    }
}
