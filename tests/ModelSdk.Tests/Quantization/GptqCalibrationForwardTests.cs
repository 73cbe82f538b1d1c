using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Quantization;

/// <summary>The batched calibration forward (<see cref="CalibrationForward"/>) against llama2.c's forward (<see cref="LlamaReference"/>).</summary>
public sealed class GptqCalibrationForwardTests
{
    private static readonly LlamaConfig[] Shapes =
    [
        // GQA, head size 6, odd hidden size and vocabulary (vector tails everywhere), separate classifier.
        new() { Dim = 36, HiddenDim = 97, Layers = 2, Heads = 6, KvHeads = 2, VocabSize = 103, ContextLength = 17, SharedClassifier = false },
        // Multi-head, head size 16, shared classifier, a context longer than a register tile many times over.
        new() { Dim = 64, HiddenDim = 150, Layers = 2, Heads = 4, KvHeads = 4, VocabSize = 257, ContextLength = 40, SharedClassifier = true },
    ];

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    public unsafe void Logits_MatchTheReference_AtEveryPositionOfEverySequence(int shape, int threads)
    {
        var config = Shapes[shape];
        const ulong seed = 5;
        using var weights = NativeLlamaWeights.Random(config, seed);
        using var model = GptqTestSupport.RandomModel(config, seed, randomNorms: false); // the same weights as fp32 tensors
        var sequences = GptqTestSupport.RandomSequences(config, 4, shape);
        var logits = GptqModelOutputWithThreads(model, sequences, threads);
        var row = 0;
        foreach (var sequence in sequences)
        {
            var reference = new LlamaReference(weights); // a fresh KV cache per sequence
            for (var pos = 0; pos < sequence.Length; pos++, row++)
            {
                var expected = reference.Forward(sequence[pos], pos);
                var nmse = Numerics.Nmse(logits.Row(row), expected);
                Assert.True(nmse < 1e-9, $"sequence row {row}, pos {pos}: NMSE {nmse}");
            }
        }
    }

    [Fact]
    public void Gram_DoesNotDependOnTheThreadCount_AndIsSymmetric()
    {
        var config = GptqTestSupport.Tiny;
        var sequences = GptqTestSupport.RandomSequences(config, 20, 9);
        var tokens = sequences.Sum(s => s.Length);
        var x = GptqTestSupport.CorrelatedActivations(tokens, 96, 10);
        var one = new CalibrationForward(config, sequences, threads: 1).Gram(x);
        var three = new CalibrationForward(config, sequences, threads: 3).Gram(x);
        Assert.Equal(one, three);
        var expected = GptqTestSupport.Hessian(x);
        for (var i = 0; i < 96; i++)
            for (var j = 0; j < 96; j++)
            {
                Assert.Equal(one[i * 96 + j], one[j * 96 + i]);
                Assert.Equal(expected[i * 96 + j] * tokens / 2, one[i * 96 + j], 1e-3 * (1 + Math.Abs(one[i * 96 + j])));
            }
    }

    [Fact]
    public void BadSequences_AreRejected()
    {
        var config = GptqTestSupport.Tiny;
        Assert.Throws<ArgumentException>(() => new CalibrationForward(config, []));
        Assert.Throws<ArgumentException>(() => new CalibrationForward(config, [new int[config.ContextLength + 1]]));
        Assert.Throws<ArgumentException>(() => new CalibrationForward(config, [[1, config.VocabSize]]));
        Assert.Throws<ArgumentException>(() => new CalibrationForward(config, [Array.Empty<int>()]));
    }

    private static Activations GptqModelOutputWithThreads(Compression.Passes.WorkingModel model, IReadOnlyList<int[]> sequences, int threads)
    {
        var c = model.Config;
        var forward = new CalibrationForward(c, sequences, threads);
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var l = 0; l < c.Layers; l++) forward.Layer(x, LlamaLayerWeights.Load(model, l));
        var hidden = forward.RmsNorm(x, model.GetFloats(TensorNames.FinalNorm));
        return forward.Linear(hidden, model.GetFloats(c.SharedClassifier ? TensorNames.TokenEmbedding : TensorNames.Classifier), c.VocabSize);
    }
}
