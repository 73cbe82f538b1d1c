using ModelSdk.IntegrationTests.Infrastructure;
using ModelSdk.Tests.Runtime.Support;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>
/// A grouped-query-attention checkpoint (stories15M with 6 query heads over 3 kv heads, derived as the runtime tests
/// derive it) built as a Model item: the generated class has the GQA shape, and its greedy ids equal those llama2.c's
/// run.c computed on the same file (tests/ModelSdk.Tests/Data/stories15M-gqa3.greedy.tsv).
/// </summary>
[Collection(PackedSdkCollection.Name)]
public sealed class GqaBuildTests(PackedSdk sdk)
{
    [Fact]
    public void GqaModel_GeneratesTheShape_AndRunCsGreedyIds()
    {
        var scenario = sdk.CreateScenario("Gqa");
        GqaCheckpoint.Derive(scenario.PathOf("models", "stories15M.bin"), scenario.PathOf("models", "stories15M-gqa3.bin"));
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains("ModelSdk: compiling stories15M-gqa3.bin -> Stories15MGqa.msdk", build.Output);

        var cases = File.ReadAllLines(Path.Combine(RepoPaths.Root, "tests", "ModelSdk.Tests", "Data", "stories15M-gqa3.greedy.tsv"))
            .Where(line => line.Length > 0).Select(line => line.Split('\t')).ToArray();
        Assert.NotEmpty(cases);
        var run = scenario.RunApp("App", [.. cases.Select(c => c[0])]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StdOut.Split('\n');
        Assert.Equal("heads: 6 3", lines[0].Trim());
        for (var i = 0; i < cases.Length; i++)
        {
            var expected = cases[i][1].Trim();
            // run.c's ids end with 1 when the model emitted BOS; the runtime stops there without returning it.
            var actual = lines[1 + 2 * i].Trim() + (expected.EndsWith(" 1", StringComparison.Ordinal) ? " 1" : "");
            Assert.Equal(expected, actual);
            Assert.Equal("same text: True", lines[2 + 2 * i].Trim());
        }
    }
}
