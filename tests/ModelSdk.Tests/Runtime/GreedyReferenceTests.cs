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
}
