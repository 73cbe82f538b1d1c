using Xunit;

namespace ModelSdk.IntegrationTests.Infrastructure;

/// <summary>llama2.c's greedy story for "Once upon a time" on stories15M, which every fp32 build of the model must write.</summary>
public static class GreedyStory
{
    /// <summary>Checks that <paramref name="generated"/>, the app's greedy continuation of "Once upon a time", begins llama2.c's story.</summary>
    public static void AssertBegins(string generated, string context)
    {
        var reference = File.ReadAllText(Path.Combine(RepoPaths.SharedModelsFolder, "stories15M.greedy.once-upon-a-time.txt"));
        Assert.True(generated.Length > 100, context);
        Assert.StartsWith("Once upon a time" + generated, reference);
    }
}
