using System.Diagnostics;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>
/// Limits a caller sets or the model has: cancellation in the middle of a generation (not only before it), MaxTokens
/// at its extremes, and prompts at and past the context length — always a clean stop or MSDK3001, never an index error.
/// </summary>
public sealed class ResourceLimitTests
{
    private static LanguageModel Model => TestModels.Stories15M;

    [Fact]
    public void CancellingATokenStream_StopsItBeforeTheNextToken()
    {
        using var cts = new CancellationTokenSource();
        var received = new List<int>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var token in Model.GenerateTokens(Model.Tokenize("Once upon a time"), new GenerationOptions { Temperature = 0, MaxTokens = 200 }, cts.Token))
            {
                received.Add(token);
                if (received.Count == 7) cts.Cancel();
            }
        });
        Assert.Equal(7, received.Count);
    }

    [Fact]
    public void CancellingGenerate_FromAnotherThread_StopsItMidway()
    {
        using var cts = new CancellationTokenSource();
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 10_000 };
        var stopwatch = new Stopwatch();
        var model = Model; // loaded before the clock starts
        var call = Task.Run(() => model.Generate("Once upon a time", options, cts.Token));
        // Cancel once the call is generating (a 250-token story takes far longer than this on any machine).
        Thread.Sleep(30);
        stopwatch.Start();
        cts.Cancel();
        var error = Record.Exception(() => call.GetAwaiter().GetResult());
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(stopwatch.ElapsedMilliseconds < 2000, $"took {stopwatch.ElapsedMilliseconds} ms to stop");
    }

    [Fact]
    public void HugeMaxTokens_EndsAtTheContext()
    {
        var prompt = Model.Tokenize("Once upon a time");
        var generated = Model.GenerateTokens(prompt, new GenerationOptions { Temperature = 1, TopP = 1, Seed = 3, MaxTokens = int.MaxValue }).Count();
        Assert.InRange(generated, 1, Model.Config.ContextLength - prompt.Length + 1);
    }

    /// <summary>Every prompt length from just inside the context to far past it: tokens or MSDK3001, in every API.</summary>
    [Fact]
    public async Task PromptsAroundTheContextLength_GiveTokensOrMSDK3001()
    {
        var context = Model.Config.ContextLength;
        var dog = Model.Tokenize("dog", addBos: false)[^1];
        foreach (var length in new[] { context - 2, context - 1, context, context + 1, 2 * context, 100 * context })
        {
            var prompt = new[] { 1 }.Concat(Enumerable.Repeat(dog, length - 1)).ToArray();
            var options = new GenerationOptions { Temperature = 0, MaxTokens = 4 };
            if (length < context)
            {
                Assert.InRange(Model.GenerateTokens(prompt, options).Count(), 0, context - length + 1);
                Assert.Equal(Model.Config.VocabSize, Model.GetNextTokenLogits(prompt).Length);
                continue;
            }
            Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.GenerateTokens(prompt, options)).Code.Id);
            if (length > context)
                Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.GetNextTokenLogits(prompt)).Code.Id);
            var text = string.Join(" ", Enumerable.Repeat("dog", length));
            Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.Generate(text, options)).Code.Id);
            var streaming = await Assert.ThrowsAsync<ModelSdkException>(async () =>
            {
                await foreach (var _ in Model.GenerateStreamingAsync(text, options)) { }
            });
            Assert.Equal("MSDK3001", streaming.Code.Id);
        }
    }
}
