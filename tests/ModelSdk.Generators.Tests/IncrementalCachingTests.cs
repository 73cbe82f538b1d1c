using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelSdk.Generators.Tests.Infrastructure;
using static ModelSdk.Generators.ModelClassGenerator;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// The generator must do no work when nothing it reads changed: typing in the IDE changes the compilation
/// on every keystroke, and the build adds other AdditionalFiles.
/// </summary>
public sealed class IncrementalCachingTests
{
    private static readonly InMemoryAdditionalText Stories = new(Manifests.Stories15MPath, Manifests.Stories15M());

    [Fact]
    public void UnrelatedSyntaxTree_LeavesEveryStepCached()
    {
        Compilation compilation = TestCompilation.Create(withRuntimeStub: true);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(Stories).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("class Unrelated { }", TestCompilation.ParseOptions)));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        AssertReasons(result, TrackingNames.ParsedManifests, IncrementalStepRunReason.Cached);
        AssertOutputsCached(result);
    }

    [Fact]
    public void UnrelatedAdditionalFile_LeavesTheManifestCached()
    {
        Compilation compilation = TestCompilation.Create(withRuntimeStub: true);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(Stories).RunGenerators(compilation);

        driver = driver.AddAdditionalTexts([new InMemoryAdditionalText("appsettings.json", "{}")]).RunGenerators(compilation);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        AssertReasons(result, TrackingNames.ParsedManifests, IncrementalStepRunReason.Cached);
        AssertOutputsCached(result);
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void ManifestEditThatDoesNotChangeTheSpec_ReparsesButDoesNotReEmit()
    {
        Compilation compilation = TestCompilation.Create(withRuntimeStub: true);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(Stories).RunGenerators(compilation);

        // A different input hash changes the file but nothing the class is built from: the equatable spec stops it.
        var edited = new InMemoryAdditionalText(Stories.Path, Manifests.Stories15M().Replace("0123456789abcdef", "aaaaaaaaaaaaaaaa"));
        driver = driver.ReplaceAdditionalText(Stories, edited).RunGenerators(compilation);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        AssertReasons(result, TrackingNames.ParsedManifests, IncrementalStepRunReason.Unchanged);
        AssertOutputsCached(result);
    }

    [Fact]
    public void ManifestEditThatChangesTheSpec_ReEmits()
    {
        Compilation compilation = TestCompilation.Create(withRuntimeStub: true);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(Stories).RunGenerators(compilation);

        var edited = new InMemoryAdditionalText(Stories.Path, Manifests.Stories15M().Replace("\"contextLength\": 256", "\"contextLength\": 512"));
        driver = driver.ReplaceAdditionalText(Stories, edited).RunGenerators(compilation);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        AssertReasons(result, TrackingNames.ParsedManifests, IncrementalStepRunReason.Modified);
        Assert.Contains("public const int ContextLength = 512;", Assert.Single(result.GeneratedSources).SourceText.ToString());
    }

    private static void AssertReasons(GeneratorRunResult result, string stepName, IncrementalStepRunReason expected)
    {
        Assert.True(result.TrackedSteps.TryGetValue(stepName, out var steps), $"step '{stepName}' was not tracked");
        var reasons = steps.SelectMany(step => step.Outputs).Select(output => output.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.Equal(expected, reason));
    }

    private static void AssertOutputsCached(GeneratorRunResult result)
    {
        var reasons = result.TrackedOutputSteps.SelectMany(pair => pair.Value).SelectMany(step => step.Outputs).Select(output => output.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
    }
}
