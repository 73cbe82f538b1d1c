using ModelSdk.IntegrationTests.Infrastructure;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>
/// A Model item with Quantize, EvaluationData and a quality gate, built against the packed SDK: the build compresses,
/// evaluates against the uncompressed model, prints the metrics, records them in the generated class, enforces the gate,
/// and recompresses exactly when an option changes.
/// </summary>
[Collection(PackedSdkCollection.Name)]
public sealed class QuantizationBuildTests(PackedSdk sdk)
{
    private const string Compiling = "ModelSdk: compiling";

    [Fact]
    public void QuantizedBuild_ReportsQuality_TheAppRunsIt_AndOptionsInvalidateTheCache()
    {
        var scenario = sdk.CreateScenario("Quantized");
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains("rtn-int8: 100%", build.Output);
        Assert.Matches(@"ModelSdk: Stories15M \(q8_g32, rtn-int8\): perplexity [0-9.]+ \(uncompressed [0-9.]+, [+-][0-9.]+%\), KL [0-9.]+, top-1 agreement [0-9.]+%, \d+ tokens of eval\.txt", build.Output);
        var artifact = Path.Combine(scenario.IntermediateModels, "Stories15M.msdk");
        Assert.InRange(new FileInfo(artifact).Length, 10_000_000, 20_000_000); // int8: about a quarter of fp32's 61 MB

        var run = scenario.RunApp();
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StdOut.Split('\n');
        Assert.True(lines[0].Trim().Split(' ').Length > 20, run.ToString());
        Assert.Matches(@"^q8_g32 perplexity [0-9.]+ vs [0-9.]+ on \d+ tokens", lines[1]);

        var again = scenario.Build();
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.DoesNotContain(Compiling, again.Output);

        // Another option: exactly this model is compressed again.
        scenario.EditProject("Quantize=\"rtn-int8\"", "Quantize=\"rtn-int4\" Symmetric=\"false\" GroupSize=\"64\"");
        scenario.EditProject("MaxPerplexityIncrease=\"2%\"", "MaxPerplexityIncrease=\"25%\"");
        var changed = scenario.Build();
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.Contains(Compiling, changed.Output);
        Assert.Contains("q4_g64_asym", changed.Output);
    }

    [Fact]
    public void FailingGate_IsMsdk1016_AndLeavesNoArtifact()
    {
        var scenario = sdk.CreateScenario("Quantized");
        scenario.EditProject("Quantize=\"rtn-int8\"", "Quantize=\"rtn-int4\"");
        scenario.EditProject("MaxPerplexityIncrease=\"2%\"", "MaxPerplexityIncrease=\"0.1%\"");
        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(@"App\.csproj\(7,\d+\): ModelSdk error MSDK1016: Stories15M \(q4_g32_sym, rtn-int4\): perplexity [0-9.]+ is [0-9.]+% above the uncompressed", build.Output);
        Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, "*.msdk*"));
        Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, ".*")); // no temporary evaluation artifacts
    }

    [Theory]
    [InlineData("Quantize=\"rtn-int8\"", "Quantize=\"int3\"", "MSDK1011")]
    [InlineData("Quantize=\"rtn-int8\"", "Quantize=\"rtn-int8\" GroupSize=\"48\"", "MSDK1012")]
    [InlineData("EvaluationData=\"data/eval.txt\"", "EvaluationData=\"data/missing.txt\"", "MSDK1015")]
    [InlineData("EvaluationData=\"data/eval.txt\"", "", "MSDK1015")]
    public void BadCompressionSettings_AreBuildErrorsWithCodeAndLine(string from, string to, string code)
    {
        var scenario = sdk.CreateScenario("Quantized");
        scenario.EditProject(from, to);
        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches($@"App\.csproj\(7,\d+\): ModelSdk error {code}: .+", build.Output);
        Assert.DoesNotContain("   at ", build.StdOut);
        if (Directory.Exists(scenario.IntermediateModels)) Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, "*.msdk"));
    }
}
