using ModelSdk.Runtime;
using ModelSdk.Tests.Runtime.Support;
using Xunit.Abstractions;

namespace ModelSdk.Tests.Runtime;

/// <summary>
/// One loaded model, many callers at once: 16 threads released together, each generating 64 tokens (half greedy, half
/// seeded sampling, through the three generation APIs), must get exactly what the same calls get one after another.
/// </summary>
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Callers = 16, Tokens = 64;

    private static readonly string[] Prompts =
        ["Once upon a time", "The little dog", "Lily and Ben", "A big red ball", "Tom was sad", "One day", "The sun was", "Sam had a"];

    private static GenerationOptions Options(int caller) => caller % 2 == 0
        ? new GenerationOptions { Temperature = 0, MaxTokens = Tokens }
        : new GenerationOptions { Temperature = 0.9f, TopP = 0.9f, Seed = (ulong)(caller + 1), MaxTokens = Tokens };

    /// <summary>Caller <paramref name="caller"/>'s call: token ids, whole text or streamed text, in turn.</summary>
    private static string Call(LanguageModel model, int caller)
    {
        var prompt = Prompts[caller % Prompts.Length];
        return (caller / 2 % 3) switch
        {
            0 => string.Join(' ', model.GenerateTokens(model.Tokenize(prompt), Options(caller))),
            1 => model.Generate(prompt, Options(caller)),
            _ => string.Concat(model.GenerateStreamingAsync(prompt, Options(caller)).ToBlockingEnumerable()),
        };
    }

    /// <summary>
    /// On the shared 2-thread model the callers take turns on its worker team token by token (GenerationTests checks a
    /// 1-thread model, whose callers run truly in parallel, with fewer callers).
    /// </summary>
    [Fact]
    public void SixteenParallelCallers_GetTheSequentialOutputs()
    {
        var model = TestModels.Stories15M;
        var sequential = Enumerable.Range(0, Callers).Select(caller => Call(model, caller)).ToArray();
        // Long enough to overlap for real: every greedy and sampled token-id run is the full 64 tokens.
        foreach (var caller in Enumerable.Range(0, Callers).Where(c => c / 2 % 3 == 0))
            Assert.Equal(Tokens, sequential[caller].Split(' ').Length);

        var parallel = new string[Callers];
        var failures = new Exception?[Callers];
        using var start = new Barrier(Callers);
        var callers = Enumerable.Range(0, Callers).Select(caller => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                parallel[caller] = Call(model, caller);
            }
            catch (Exception e)
            {
                failures[caller] = e;
            }
        })).ToArray();
        foreach (var thread in callers) thread.Start();
        foreach (var thread in callers) thread.Join();

        Assert.All(failures, Assert.Null);
        for (var caller = 0; caller < Callers; caller++)
            Assert.True(sequential[caller] == parallel[caller], $"caller {caller}: sequential '{sequential[caller]}', parallel '{parallel[caller]}'");
        output.WriteLine($"{Callers} parallel callers x {Tokens} tokens on {model.Threads} threads per model: all equal to the sequential outputs");
    }

    /// <summary>
    /// Disposing the model while a generation runs does not pull the weights from under it: the running call finishes
    /// with the text it would have produced, later calls get ObjectDisposedException.
    /// </summary>
    [Fact]
    public async Task DisposeDuringGeneration_LetsTheRunningCallFinish()
    {
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 40 };
        var expected = TestModels.Stories15M.Generate("Once upon a time", options);
        var model = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Threads = 1 });
        var pieces = new List<string>();
        await foreach (var piece in model.GenerateStreamingAsync("Once upon a time", options))
        {
            pieces.Add(piece);
            if (pieces.Count == 3) model.Dispose();
        }
        Assert.Equal(expected, string.Concat(pieces));
        Assert.Throws<ObjectDisposedException>(() => model.Generate("Once upon a time", options));
        Assert.Throws<ObjectDisposedException>(() => model.GetNextTokenLogits([1]));
        model.Dispose();
    }
}
