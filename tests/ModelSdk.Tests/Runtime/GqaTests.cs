using ModelSdk.Runtime;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>
/// Grouped-query attention on a real checkpoint: stories15M with its 6 K/V heads mean-pooled into 3
/// (<see cref="GqaCheckpoint"/>), compiled to an artifact; greedy ids must equal run.c's on the same derived file.
/// </summary>
public sealed class GqaTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in TestModels.ReadTsv("stories15M-gqa3.greedy.tsv")) data.Add(row[0], row[1]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyIds_MatchRunC(string prompt, string runCIds)
    {
        using var model = LanguageModel.Load(TestModels.GqaArtifact, new LoadOptions { Threads = 2 });
        Assert.Equal(6, model.Config.Heads);
        Assert.Equal(3, model.Config.KvHeads);

        var expected = TestModels.ParseIds(runCIds);
        var tokens = model.Tokenize(prompt);
        var generated = model.GenerateTokens(tokens, new GenerationOptions { Temperature = 0, MaxTokens = 256 }).ToArray();
        int[] actual = [.. tokens[1..], .. generated];
        if (expected[^1] == 1) actual = [.. actual, 1];
        Assert.Equal(expected, actual);
    }
}
