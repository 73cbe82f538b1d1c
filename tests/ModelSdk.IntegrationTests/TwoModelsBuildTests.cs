using ModelSdk.IntegrationTests.Infrastructure;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>
/// Two Model items in one project (stories15M as fp32 and as rtn-int8): both compile, both classes run, and changing
/// one item's option compresses that model again and leaves the other one alone.
/// </summary>
[Collection(PackedSdkCollection.Name)]
public sealed class TwoModelsBuildTests(PackedSdk sdk)
{
    private const string CompilingFull = "ModelSdk: compiling stories15M.bin -> Stories15M.msdk";
    private const string CompilingInt8 = "ModelSdk: compiling stories15M.bin -> Stories15MInt8.msdk";

    [Fact]
    public void TwoModels_BothGenerate_AndAnOptionChangeRecompressesOnlyItsModel()
    {
        var scenario = sdk.CreateScenario("TwoModels");
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains(CompilingFull, build.Output);
        Assert.Contains(CompilingInt8, build.Output);
        Assert.Contains("rtn-int8: 100%", build.Output);
        foreach (var artifact in new[] { "Stories15M.msdk", "Stories15MInt8.msdk" })
            Assert.True(File.Exists(scenario.PathOf("bin", "Release", "net10.0", artifact)), $"{artifact} is copied next to the app");

        var run = scenario.RunApp();
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StdOut.Split('\n');
        GreedyStory.AssertBegins(lines[0], run.ToString());
        Assert.True(lines[1].Trim().Split(' ').Length > 20, run.ToString());
        Assert.Equal("formats: f32 q8_g32", lines[2].Trim());

        // One item's option changes: only its model is compressed again; the other's artifact is not rewritten.
        var fullArtifact = Path.Combine(scenario.IntermediateModels, "Stories15M.msdk");
        var fullWrittenAt = File.GetLastWriteTimeUtc(fullArtifact);
        var project = scenario.PathOf("App.csproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("Quantize=\"rtn-int8\"", "Quantize=\"rtn-int8\" GroupSize=\"64\""));
        var changed = scenario.Build("-v:d");
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.Contains(CompilingInt8, changed.Output);
        Assert.Contains("q8_g64", changed.Output);
        Assert.DoesNotContain(CompilingFull, changed.Output);
        Assert.Contains("ModelSdk: Stories15M is up to date (inputs unchanged", changed.Output);
        Assert.Equal(fullWrittenAt, File.GetLastWriteTimeUtc(fullArtifact));

        var rerun = scenario.RunApp();
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Equal("formats: f32 q8_g64", rerun.StdOut.Split('\n')[2].Trim());
    }
}
