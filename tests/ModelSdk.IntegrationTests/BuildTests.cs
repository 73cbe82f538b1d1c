using ModelSdk.IntegrationTests.Infrastructure;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>A user's project built against the packed SDK: the class is generated, the app runs the real model, builds are incremental.</summary>
[Collection(PackedSdkCollection.Name)]
public sealed class BuildTests(PackedSdk sdk)
{
    private const string SkippedCompile = "Skipping target \"ModelSdkCompile\" because all output files are up-to-date";
    private const string Compiling = "ModelSdk: compiling";

    /// <summary>The three ways to use the SDK: as the project SDK, as an additional SDK, as package references.</summary>
    [Theory]
    [InlineData("Basic")]
    [InlineData("SdkElement")]
    [InlineData("PackageReference")]
    public void Build_GeneratesTheTypedClass_AndTheAppWritesTheGreedyStory(string scenarioName)
    {
        var scenario = sdk.CreateScenario(scenarioName);
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains(Compiling, build.Output);
        Assert.True(File.Exists(scenario.PathOf("bin", "Release", "net10.0", "Stories15M.msdk")), "the artifact is copied next to the app");

        var run = scenario.RunApp();
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StdOut.Split('\n');
        GreedyStory.AssertBegins(lines[0], run.ToString());
        Assert.Equal("shape: 288 6 32000 256", lines[1].Trim());
        Assert.True(lines[2].Trim().Length > 20, run.ToString());
    }

    [Fact]
    public void Rebuilds_DoNoWork_UnlessAnInputReallyChanges()
    {
        var scenario = sdk.CreateScenario("Basic");
        var model = scenario.OwnCopy("stories15M.bin");
        var tokenizer = scenario.OwnCopy("tokenizer.model");
        Assert.Equal(0, scenario.Build().ExitCode);
        var artifact = Path.Combine(scenario.IntermediateModels, "Stories15M.msdk");
        var compiledAt = File.GetLastWriteTimeUtc(artifact);

        var second = scenario.Build();
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains(SkippedCompile, second.Output);
        Assert.DoesNotContain(Compiling, second.Output);

        // Touched, not changed: the target runs (timestamps), the task finds the same content hash and does nothing.
        File.SetLastWriteTimeUtc(model, DateTime.UtcNow);
        File.SetLastWriteTimeUtc(tokenizer, DateTime.UtcNow);
        var touched = scenario.Build();
        Assert.True(touched.ExitCode == 0, touched.ToString());
        Assert.DoesNotContain(SkippedCompile, touched.Output);
        Assert.DoesNotContain(Compiling, touched.Output);
        Assert.Equal(compiledAt, File.GetLastWriteTimeUtc(artifact));

        // Changed metadata: the item now produces another class; the compiled model itself is the same, so it comes from the cache.
        foreach (var file in new[] { "App.csproj", "Program.cs" })
            File.WriteAllText(scenario.PathOf(file), File.ReadAllText(scenario.PathOf(file)).Replace("Stories15M", "TinyStoryteller"));
        var changed = scenario.Build();
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.DoesNotContain(Compiling, changed.Output);
        Assert.Contains("ModelSdk: TinyStoryteller: shared cache hit", changed.Output);
        Assert.True(File.Exists(Path.Combine(scenario.IntermediateModels, "TinyStoryteller.msdk")));
    }

    [Fact]
    public void DesignTimeBuild_GivesTheGeneratorAManifest_WithoutCompilingTheModel()
    {
        var scenario = sdk.CreateScenario("Basic");
        // What an IDE does: a design-time build that runs the compiler (and so the generator) but no build work.
        var designTime = DotNet.Run(scenario.Directory, sdk.BuildEnvironment,
            "msbuild", "-restore", "-t:Compile", "-p:DesignTimeBuild=true", "-p:Configuration=Release", "-v:d");
        Assert.True(designTime.ExitCode == 0, designTime.ToString());
        Assert.True(File.Exists(Path.Combine(scenario.IntermediateModels, "Stories15M.msdk.json")));
        Assert.False(File.Exists(Path.Combine(scenario.IntermediateModels, "Stories15M.msdk")), "a design-time build never compiles a model");
        Assert.False(Directory.Exists(scenario.PathOf("modelsdk-cache")), "a design-time build never touches the model cache");
        // Which targets ran: the manifest target did, the compile target was skipped; the C# compiler built Program.cs,
        // which uses the generated class, so the class was in the compilation.
        Assert.Contains("ModelSdk: Stories15M: manifest from the checkpoint header (design-time build, nothing compiled).", designTime.Output);
        Assert.Contains("Done building target \"_ModelSdkDesignTimeManifests\"", designTime.Output);
        Assert.DoesNotContain("Target \"ModelSdkCompile\"", designTime.Output);
        Assert.Contains("Done building target \"CoreCompile\"", designTime.Output);
        Assert.DoesNotContain(Compiling, designTime.Output);
        Assert.True(File.Exists(scenario.PathOf("obj", "Release", "net10.0", "App.dll")), "the design-time compilation with the generated class succeeded");
    }

    [Fact]
    public void TwoProjects_WithTheSameModel_CompressOnce_ThroughTheSharedCache_WhichModelSdkCleanTrims()
    {
        var cache = Path.Combine(sdk.WorkRoot, $"shared-cache-{Guid.NewGuid():N}");
        var first = sdk.CreateScenario("Basic").Build($"-p:ModelSdkCacheDirectory={cache}");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains(Compiling, first.Output);

        var other = sdk.CreateScenario("Basic");
        var second = other.Build($"-p:ModelSdkCacheDirectory={cache}");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain(Compiling, second.Output);
        Assert.Contains("ModelSdk: Stories15M: shared cache hit", second.Output);
        Assert.True(File.Exists(other.PathOf("bin", "Release", "net10.0", "Stories15M.msdk")));

        var badLimit = DotNet.Run(other.Directory, sdk.BuildEnvironment, "msbuild", "-t:ModelSdkClean", $"-p:ModelSdkCacheDirectory={cache}", "-p:ModelSdkCacheMaxSize=lots");
        Assert.NotEqual(0, badLimit.ExitCode);
        Assert.Contains("MSDK1030", badLimit.Output);
        var clean = DotNet.Run(other.Directory, sdk.BuildEnvironment, "msbuild", "-t:ModelSdkClean", $"-p:ModelSdkCacheDirectory={cache}", "-p:ModelSdkCacheMaxSize=0");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Contains("removed 1 entries", clean.Output);
        Assert.Empty(Directory.GetFiles(cache, "*.msdk", SearchOption.AllDirectories));
    }
}
