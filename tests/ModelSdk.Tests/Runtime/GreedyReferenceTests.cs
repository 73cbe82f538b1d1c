using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>Greedy generation reproduces llama2.c run.c token for token (ids recorded from run.c, see Data/README.md).</summary>
public sealed class GreedyReferenceTests
{
    private static readonly GenerationOptions Greedy = new() { Temperature = 0, MaxTokens = 256 };

    [Fact]
    public void OnceUponATime_MatchesRunCIdsAndText()
    {
        var model = TestModels.Stories15M;
        var expected = TestModels.ParseIds(File.ReadAllText(Path.Combine(TestModels.SharedModels, "stories15M.greedy.once-upon-a-time.ids")));
        var prompt = model.Tokenize("Once upon a time");
        Assert.Equal(new[] { 1, 9038, 2501, 263, 931 }, prompt);

        var generated = model.GenerateTokens(prompt, Greedy).ToArray();
        // run.c's ids: the prompt after BOS, the generated tokens, then the BOS that ended the story.
        int[] actual = [.. prompt[1..], .. generated, 1];
        Assert.Equal(expected, actual);

        var text = model.Generate("Once upon a time", Greedy);
        var expectedText = File.ReadAllText(Path.Combine(TestModels.SharedModels, "stories15M.greedy.once-upon-a-time.txt"));
        Assert.Equal(expectedText, "Once upon a time" + text + "\n");
    }

    public static TheoryData<string, string> GreedyCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in TestModels.ReadTsv("stories15M.greedy.tsv")) data.Add(row[0], row[1]);
        return data;
    }

    [Theory]
    [MemberData(nameof(GreedyCases))]
    public void OtherPrompts_MatchRunCIds(string prompt, string runCIds)
    {
        var model = TestModels.Stories15M;
        var expected = TestModels.ParseIds(runCIds);
        var tokens = model.Tokenize(prompt);
        var generated = model.GenerateTokens(tokens, Greedy).ToArray();
        int[] actual = [.. tokens[1..], .. generated];
        if (expected[^1] == 1) actual = [.. actual, 1];
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The same story through other configurations: every accelerated vector width (on an AVX-512 machine this runs the
    /// AVX2 path end to end), weights read in place from the mapping instead of huge pages, 1 and 3 threads.
    /// </summary>
    [Fact]
    public void OnceUponATime_IsTheSameInEveryConfiguration()
    {
        var expected = TestModels.ParseIds(File.ReadAllText(Path.Combine(TestModels.SharedModels, "stories15M.greedy.once-upon-a-time.ids")));
        (VectorWidth Width, bool HugePages, int Threads)[] configurations =
        [
            .. VectorWidths.Accelerated.Where(w => w != VectorWidth.Scalar && w != VectorWidths.Best).Select(w => (w, true, 2)),
            (VectorWidths.Best, false, 1),
            (VectorWidths.Best, true, 3),
        ];
        foreach (var (width, hugePages, threads) in configurations)
        {
            using var model = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Threads = threads }, width, hugePages);
            var prompt = model.Tokenize("Once upon a time");
            int[] actual = [.. prompt[1..], .. model.GenerateTokens(prompt, Greedy), 1];
            Assert.True(expected.SequenceEqual(actual), $"{width}, huge pages {hugePages}, {threads} threads");
        }
    }

    public static TheoryData<string, string> LogitCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in TestModels.ReadTsv("stories15M.logits.tsv")) data.Add(row[0], row[1]);
        return data;
    }

    /// <summary>The logits themselves agree with run.c's to about 1e-4 (only the summation order differs).</summary>
    [Theory]
    [MemberData(nameof(LogitCases))]
    public void Logits_AgreeWithRunC(string prompt, string runCTop20)
    {
        var logits = TestModels.Stories15M.GetNextTokenLogits(TestModels.Stories15M.Tokenize(prompt));
        var top = runCTop20.Split(' ').Select(p => p.Split(':')).Select(p => (Id: int.Parse(p[0]), Logit: float.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(top[0].Id, Array.IndexOf(logits, logits.Max()));
        foreach (var (id, logit) in top)
            Assert.True(Math.Abs(logits[id] - logit) < 2e-4, $"token {id}: {logits[id]} vs run.c {logit}");
    }
}
