using ModelSdk.Artifacts;
using ModelSdk.IntegrationTests.Infrastructure;
using ModelSdk.Runtime;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;
using Xunit;

namespace ModelSdk.IntegrationTests;

/// <summary>
/// A Model item with <c>Prune="sparsegpt" Sparsity="2:4"</c> built against the packed SDK: the artifact holds every block
/// matrix in the compressed 2:4 layout with exactly two zeros in every group of four, and the generated class writes the
/// same greedy story as the runtime loading that artifact in this process.
/// </summary>
[Collection(PackedSdkCollection.Name)]
public sealed class PruningBuildTests(PackedSdk sdk)
{
    [Fact]
    public void SparseGpt24Build_StoresExact24Matrices_AndTheGeneratedClassWritesTheRuntimesStory()
    {
        var scenario = sdk.CreateScenario("Pruned");
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains("sparsegpt: 100%", build.Output);

        var artifactPath = Path.Combine(scenario.IntermediateModels, "Stories15M.msdk");
        using (var artifact = ModelArtifact.Open(artifactPath))
        {
            Assert.Equal("f32_sparse24", artifact.Manifest.WeightFormat);
            Assert.Equal(["sparsegpt", "sparse24-storage"], artifact.Manifest.Provenance.Passes.Select(p => p.Name));
            Assert.Equal("f32", artifact.GetEntry(TensorNames.TokenEmbedding).Type); // the classifier stays dense by default
            var config = artifact.Manifest.Config;
            for (var l = 0; l < config.Layers; l++)
            {
                foreach (var name in new[] { TensorNames.Wq(l), TensorNames.Wk(l), TensorNames.Wv(l), TensorNames.Wo(l), TensorNames.W1(l), TensorNames.W2(l), TensorNames.W3(l) })
                    AssertExactly24(artifact, name);
            }
        }

        var story = AppStory_IsTheRuntimes(scenario, "f32_sparse24");
        // Sensible English: words of letters (with punctuation), and sentences that end.
        var words = story.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Count(w => w.Trim('.', ',', '!', '?', '"', '\'').All(char.IsLetter)) >= words.Length * 9 / 10, story);
        Assert.Contains(".", story);
    }

    [Fact]
    public void JointlyQuantizedInt8_IsStoredQ8Sparse24_AndTheGeneratedClassWritesTheRuntimesStory()
    {
        var scenario = sdk.CreateScenario("Pruned");
        scenario.EditProject("Sparsity=\"2:4\"", "Sparsity=\"2:4\" JointQuantization=\"true\" Quantize=\"rtn-int8\"");
        var build = scenario.Build();
        Assert.True(build.ExitCode == 0, build.ToString());
        using (var artifact = ModelArtifact.Open(Path.Combine(scenario.IntermediateModels, "Stories15M.msdk")))
        {
            Assert.Equal("q8_g32_sparse24", artifact.Manifest.WeightFormat);
            Assert.Equal(["sparsegpt", "rtn-int8", "sparse24-storage"], artifact.Manifest.Provenance.Passes.Select(p => p.Name));
            Assert.Equal("q8_g32", artifact.Manifest.Provenance.Passes[0].Options["JointQuantization"]);
        }
        AppStory_IsTheRuntimes(scenario, "q8_g32_sparse24");
    }

    [Fact]
    public void JointQuantizationWithoutSparseGpt_IsMsdk1023_OnTheItemsLine()
    {
        var scenario = sdk.CreateScenario("Pruned");
        scenario.EditProject("Prune=\"sparsegpt\" Sparsity=\"2:4\"", "Prune=\"wanda\" Sparsity=\"2:4\" JointQuantization=\"true\" Quantize=\"rtn-int4\"");
        var build = scenario.Build();
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(@"App\.csproj\(7,\d+\): ModelSdk error MSDK1023: JointQuantization quantizes inside SparseGPT's weight reconstruction: it needs Prune=""sparsegpt"", not ""wanda""", build.Output);
        if (Directory.Exists(scenario.IntermediateModels)) Assert.Empty(Directory.GetFiles(scenario.IntermediateModels, "*.msdk"));
    }

    /// <summary>
    /// Runs the app: it prints <paramref name="format"/> and a story of more than 20 words, the same as the runtime's
    /// greedy story from the built artifact. Returns the story.
    /// </summary>
    private static string AppStory_IsTheRuntimes(Scenario scenario, string format)
    {
        var run = scenario.RunApp();
        Assert.True(run.ExitCode == 0, run.ToString());
        var (printedFormat, story) = FormatAndStory(run);
        Assert.Equal(format, printedFormat);
        Assert.True(story.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length > 20, run.ToString());
        using var model = LanguageModel.Load(scenario.PathOf("bin", "Release", "net10.0", "Stories15M.msdk"), new LoadOptions { Threads = 2 });
        Assert.Equal(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }).TrimEnd('\n'), story);
        return story;
    }

    /// <summary>The app prints the weight format on its first line, then the story (which may hold line breaks).</summary>
    private static (string Format, string Story) FormatAndStory(DotNet.Result run)
    {
        var text = run.StdOut.Replace("\r\n", "\n");
        var newline = text.IndexOf('\n');
        Assert.True(newline > 0, run.ToString());
        return (text[..newline], text[(newline + 1)..].TrimEnd('\n'));
    }

    /// <summary>The matrix is stored compressed and, decoded, has exactly two zeros in every group of 4 inputs of every row.</summary>
    private static void AssertExactly24(ModelArtifact artifact, string name)
    {
        var entry = artifact.GetEntry(name);
        Assert.Equal("f32_sparse24", entry.Type);
        var format = TensorFormats.All.Single(f => f.Name == entry.Type);
        int rows = (int)entry.Shape[0], cols = (int)entry.Shape[1];
        Assert.Equal(rows * (cols / 2 * 4 + cols / 8), entry.Length);
        var values = Sparse24Codec.Decode(format, artifact.GetBytes(name), rows, cols);
        for (var g = 0; g < values.Length; g += 4)
        {
            var zeros = 0;
            for (var k = 0; k < 4; k++) if (values[g + k] == 0) zeros++;
            Assert.True(zeros == 2, $"{name}: row {g / cols}, inputs {g % cols}..{g % cols + 3} hold {zeros} zeros, not 2.");
        }
    }
}
