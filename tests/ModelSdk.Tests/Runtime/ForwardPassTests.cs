using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>
/// The fused, vectorized, multi-threaded forward pass against llama2.c's forward transcribed with scalar kernels
/// (<see cref="LlamaReference"/>), on random models with awkward shapes: odd hidden size and vocabulary, head sizes that
/// are not a multiple of any vector, grouped-query attention, every position of the context.
/// </summary>
public sealed class ForwardPassTests
{
    /// <summary>(vector width in bits, 0 = scalar; threads).</summary>
    public static TheoryData<int, int> WidthsAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (var width in VectorWidths.Accelerated)
        foreach (var threads in new[] { 1, 2, 3 })
            data.Add((int)width, threads);
        return data;
    }

    private static readonly LlamaConfig[] Shapes =
    [
        // GQA (6 heads over 2 kv heads), head size 6, odd hidden and vocab.
        new() { Dim = 36, HiddenDim = 97, Layers = 2, Heads = 6, KvHeads = 2, VocabSize = 103, ContextLength = 17, SharedClassifier = false },
        // Multi-head, head size 16, shared classifier.
        new() { Dim = 64, HiddenDim = 150, Layers = 3, Heads = 4, KvHeads = 4, VocabSize = 257, ContextLength = 9, SharedClassifier = true },
        // Multi-query (one kv head), head size 20.
        new() { Dim = 80, HiddenDim = 33, Layers = 1, Heads = 4, KvHeads = 1, VocabSize = 50, ContextLength = 6, SharedClassifier = false },
        // A context longer than two prompt batches.
        new() { Dim = 48, HiddenDim = 40, Layers = 2, Heads = 4, KvHeads = 2, VocabSize = 60, ContextLength = 75, SharedClassifier = true },
    ];

    [Theory]
    [MemberData(nameof(WidthsAndThreads))]
    public void Logits_MatchTheReferenceAtEveryPosition(int bits, int threads)
    {
        var width = (VectorWidth)bits;
        for (var s = 0; s < Shapes.Length; s++)
        {
            var config = Shapes[s];
            using var weights = NativeLlamaWeights.Random(config, seed: (ulong)(s + 1));
            using var transformer = new LlamaTransformer(weights, threads, width, ownsWeights: false);
            using var session = transformer.CreateSession();
            var reference = new LlamaReference(weights);
            var random = new Random(s);
            for (var pos = 0; pos < config.ContextLength; pos++)
            {
                var token = random.Next(config.VocabSize);
                var expected = reference.Forward(token, pos);
                session.Forward(token, pos, computeLogits: true);
                var nmse = Numerics.Nmse(session.LogitsSpan, expected);
                Assert.True(nmse < 1e-9, $"shape {s}, pos {pos}: NMSE {nmse}");
            }
        }
    }

    /// <summary>A prompt in batches (<see cref="LlamaSession.MaxBatch"/> tokens per step) gives exactly the token-by-token logits.</summary>
    [Theory]
    [MemberData(nameof(WidthsAndThreads))]
    public void BatchedPrompt_IsBitIdenticalToTokenByToken(int bits, int threads)
    {
        var width = (VectorWidth)bits;
        foreach (var config in Shapes)
        {
            using var weights = NativeLlamaWeights.Random(config, seed: 5);
            using var transformer = new LlamaTransformer(weights, threads, width, ownsWeights: false);
            using var batched = transformer.CreateSession();
            using var single = transformer.CreateSession();
            var random = new Random(config.Dim);
            var prompt = Enumerable.Range(0, config.ContextLength - 1).Select(_ => random.Next(config.VocabSize)).ToArray();
            batched.Forward(prompt, 0, computeLogits: true);
            for (var i = 0; i < prompt.Length; i++) single.Forward(prompt[i], i, computeLogits: i == prompt.Length - 1);
            Assert.Equal(single.LogitsSpan.ToArray(), batched.LogitsSpan.ToArray());
            // And decoding continues identically from the cache the batch filled.
            batched.Forward(3, prompt.Length, computeLogits: true);
            single.Forward(3, prompt.Length, computeLogits: true);
            Assert.Equal(single.LogitsSpan.ToArray(), batched.LogitsSpan.ToArray());
        }
    }

    [Fact]
    public void SkippingPromptLogits_DoesNotChangeTheLastLogits()
    {
        var config = Shapes[0];
        using var weights = NativeLlamaWeights.Random(config, seed: 9);
        using var transformer = new LlamaTransformer(weights, 2, ownsWeights: false);
        using var all = transformer.CreateSession();
        using var last = transformer.CreateSession();
        int[] tokens = [1, 5, 9, 77, 3];
        for (var i = 0; i < tokens.Length; i++)
        {
            all.Forward(tokens[i], i, computeLogits: true);
            last.Forward(tokens[i], i, computeLogits: i == tokens.Length - 1);
        }
        Assert.Equal(all.LogitsSpan.ToArray(), last.LogitsSpan.ToArray());
    }
}
