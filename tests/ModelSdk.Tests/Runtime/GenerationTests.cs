using System.Diagnostics;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>The public generation API on stories15M: limits, stop sequences, streaming, cancellation, errors, threads.</summary>
public sealed class GenerationTests
{
    private static LanguageModel Model => TestModels.Stories15M;

    private static GenerationOptions Greedy(int maxTokens = 256) => new() { Temperature = 0, MaxTokens = maxTokens };

    [Fact]
    public void Tokenize_EncodesLikeRunC_AndDecodeStripsTheSpaceAfterBos()
    {
        Assert.Equal(new[] { 1, 9038, 2501, 263, 931 }, Model.Tokenize("Once upon a time"));
        Assert.Equal(new[] { 9038, 2501, 263, 931 }, Model.Tokenize("Once upon a time", addBos: false));
        Assert.Equal(new[] { 1 }, Model.Tokenize(""));
        Assert.Equal("Once upon a time", Model.Decode(Model.Tokenize("Once upon a time")));
        Assert.Equal(" Once upon a time", Model.Decode(Model.Tokenize("Once upon a time", addBos: false)));
    }

    [Fact]
    public void Decode_JoinsByteFallbackPiecesIntoWholeCharacters()
    {
        // Characters outside the vocabulary are encoded as their UTF-8 bytes, one <0xHH> token each.
        var tokens = Model.Tokenize("🙂 ok", addBos: true);
        Assert.Contains(tokens, t => t is >= 3 and < 259); // byte pieces are ids 3..258
        Assert.Equal("🙂 ok", Model.Decode(tokens));
        // A sequence cut inside a character ends with U+FFFD rather than a broken surrogate.
        var cut = tokens.TakeWhile(t => t is < 3 or >= 259).Concat(tokens.Where(t => t is >= 3 and < 259).Take(2)).ToArray();
        Assert.EndsWith("\uFFFD", Model.Decode(cut));
    }

    [Fact]
    public void Decode_PrintsNothingForBosAndEos_AndNewlineBytes()
    {
        Assert.Equal("", Model.Decode([1, 2]));
        Assert.Equal("a\nb", Model.Decode([1, Model.Tokenize("a", false)[^1], 13, Model.Tokenize("b", false)[^1]]).Replace(" ", ""));
    }

    [Fact]
    public void MaxTokens_LimitsTheGeneratedTokens()
    {
        Assert.Equal("", Model.Generate("Once upon a time", Greedy(0)));
        Assert.Empty(Model.GenerateTokens(Model.Tokenize("Once upon a time"), Greedy(0)));
        var five = Model.GenerateTokens(Model.Tokenize("Once upon a time"), Greedy(5)).ToArray();
        Assert.Equal(5, five.Length);
        Assert.Equal(", there was a little", Model.Generate("Once upon a time", Greedy(5)));
    }

    [Fact]
    public void FullContext_EndsGeneration_WithoutAnError()
    {
        // seq_len 256: a 250-token prompt leaves positions for 6 more inputs, and the last position's logits still give a token.
        var prompt = Enumerable.Repeat(1, 1).Concat(Enumerable.Repeat(Model.Tokenize("dog", false)[^1], 249)).ToArray();
        var generated = Model.GenerateTokens(prompt, Greedy(1000)).ToArray();
        Assert.InRange(generated.Length, 1, Model.Config.ContextLength - prompt.Length + 1);
        var longest = Enumerable.Repeat(1, 1).Concat(Enumerable.Repeat(Model.Tokenize("dog", false)[^1], 254)).ToArray();
        Assert.InRange(Model.GenerateTokens(longest, Greedy(1000)).Count(), 0, 2);
    }

    [Fact]
    public async Task PromptTooLong_IsMsdk3001()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("dog", 300));
        Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.Generate(prompt)).Code.Id);
        var exactlyContext = Enumerable.Repeat(1, Model.Config.ContextLength).ToArray();
        Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.GenerateTokens(exactlyContext, Greedy())).Code.Id);
        Assert.Equal("MSDK3001", Assert.Throws<ModelSdkException>(() => Model.GetNextTokenLogits(Enumerable.Repeat(1, 257).ToArray())).Code.Id);
        var streaming = await Assert.ThrowsAsync<ModelSdkException>(async () =>
        {
            await foreach (var _ in Model.GenerateStreamingAsync(prompt)) { }
        });
        Assert.Equal("MSDK3001", streaming.Code.Id);
    }

    [Theory]
    [InlineData(-1, 1.0f, 0.9f)]
    [InlineData(10, -0.5f, 0.9f)]
    [InlineData(10, float.NaN, 0.9f)]
    [InlineData(10, 1.0f, 0f)]
    [InlineData(10, 1.0f, 1.5f)]
    public void InvalidOptions_AreMsdk3002(int maxTokens, float temperature, float topP)
    {
        var options = new GenerationOptions { MaxTokens = maxTokens, Temperature = temperature, TopP = topP };
        Assert.Equal("MSDK3002", Assert.Throws<ModelSdkException>(() => Model.Generate("Hi", options)).Code.Id);
        Assert.Equal("MSDK3002", Assert.Throws<ModelSdkException>(() => Model.GenerateTokens([1], options)).Code.Id);
    }

    [Fact]
    public void EmptyStopSequence_IsMsdk3002()
    {
        var options = new GenerationOptions { StopSequences = ["x", ""] };
        Assert.Equal("MSDK3002", Assert.Throws<ModelSdkException>(() => Model.Generate("Hi", options)).Code.Id);
    }

    [Fact]
    public async Task StopSequence_EndsTheTextRightBeforeIt_InBothApis()
    {
        var full = Model.Generate("Once upon a time", Greedy());
        var options = new GenerationOptions { Temperature = 0, StopSequences = ["Lily wanted", "zzz"] };
        var stopped = Model.Generate("Once upon a time", options);
        Assert.Equal(full[..full.IndexOf("Lily wanted", StringComparison.Ordinal)], stopped);

        var streamed = string.Concat(await Collect(Model.GenerateStreamingAsync("Once upon a time", options)));
        Assert.Equal(stopped, streamed);
        // A stop sequence that starts mid-token ("ly w" inside "Lily wanted") is found as well.
        var mid = Model.Generate("Once upon a time", new GenerationOptions { Temperature = 0, StopSequences = ["ly w"] });
        Assert.Equal(full[..full.IndexOf("ly w", StringComparison.Ordinal)], mid);
    }

    [Fact]
    public async Task Streaming_ConcatenatesToGenerate()
    {
        var options = new GenerationOptions { Temperature = 0.8f, TopP = 0.9f, Seed = 5, MaxTokens = 60 };
        var pieces = await Collect(Model.GenerateStreamingAsync("The little dog", options));
        Assert.True(pieces.Count > 10);
        Assert.Equal(Model.Generate("The little dog", options), string.Concat(pieces));
    }

    [Fact]
    public async Task StreamingCancellation_StopsPromptly()
    {
        using var cts = new CancellationTokenSource();
        var received = 0;
        var watch = new Stopwatch();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Model.GenerateStreamingAsync("Once upon a time", Greedy(), cts.Token))
            {
                if (++received == 3)
                {
                    cts.Cancel();
                    watch.Start();
                }
            }
        });
        Assert.Equal(3, received); // no piece after the cancellation
        Assert.True(watch.ElapsedMilliseconds < 1000, $"took {watch.ElapsedMilliseconds} ms to stop");

        // The token given to WithCancellation is honoured too ([EnumeratorCancellation]).
        using var cts2 = new CancellationTokenSource();
        received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Model.GenerateStreamingAsync("Once upon a time", Greedy()).WithCancellation(cts2.Token))
            {
                if (++received == 2) cts2.Cancel();
            }
        });
        Assert.Equal(2, received);
    }

    [Fact]
    public void Cancellation_StopsGenerate()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Model.Generate("Once upon a time", Greedy(), cts.Token));
    }

    [Fact]
    public void ParallelCallers_GetWhatSequentialCallsGet()
    {
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Ben", "A big red ball", "Tom was sad"];
        GenerationOptions Options(int i) => i % 2 == 0
            ? Greedy(48)
            : new GenerationOptions { Temperature = 0.9f, TopP = 0.9f, Seed = (ulong)i, MaxTokens = 48 };
        var sequential = prompts.Select((p, i) => Model.Generate(p, Options(i))).ToArray();
        var sequentialLogits = Model.GetNextTokenLogits(Model.Tokenize("Once upon a time"));

        // 2 threads per model here, so the callers also take turns on the shared worker team.
        var parallel = new string[prompts.Length];
        var logits = new float[prompts.Length][];
        Parallel.For(0, prompts.Length * 2, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
        {
            var k = i % prompts.Length;
            if (i < prompts.Length) parallel[k] = Model.Generate(prompts[k], Options(k));
            else logits[k] = Model.GetNextTokenLogits(Model.Tokenize("Once upon a time"));
        });
        Assert.Equal(sequential, parallel);
        foreach (var l in logits) Assert.Equal(sequentialLogits, l);

        // Single-threaded models run callers truly in parallel, each on its own thread.
        using var single = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Threads = 1 });
        var singleResults = new string[prompts.Length];
        Parallel.For(0, prompts.Length, i => singleResults[i] = single.Generate(prompts[i], Options(i)));
        Assert.Equal(sequential, singleResults);
    }

    [Fact]
    public void EnsureShape_AcceptsTheRightShape_AndListsEveryDifference()
    {
        Model.EnsureShape(288, 768, 6, 6, 6, 32000, 256, "f32");
        var e = Assert.Throws<ModelSdkException>(() => Model.EnsureShape(512, 768, 8, 6, 6, 32000, 256, "q4"));
        Assert.Equal("MSDK2004", e.Code.Id);
        Assert.Contains("dim: expected 512, the artifact has 288", e.Message);
        Assert.Contains("n_layers: expected 8, the artifact has 6", e.Message);
        Assert.Contains("weight format: expected q4, the artifact has f32", e.Message);
        Assert.DoesNotContain("hidden_dim", e.Message);
    }

    [Fact]
    public void GetNextTokenLogits_PredictsTheGreedyToken()
    {
        var logits = Model.GetNextTokenLogits(Model.Tokenize("Once upon a time"));
        Assert.Equal(32000, logits.Length);
        Assert.Equal(29892, Array.IndexOf(logits, logits.Max())); // ","
    }

    [Fact]
    public void Load_ReportsAMissingArtifactAsMsdk2001()
    {
        var e = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(Path.Combine(TestModels.TempDirectory, "missing.msdk")));
        Assert.Equal("MSDK2001", e.Code.Id);
    }

    private static async Task<List<string>> Collect(IAsyncEnumerable<string> stream)
    {
        var list = new List<string>();
        await foreach (var piece in stream) list.Add(piece);
        return list;
    }
}
