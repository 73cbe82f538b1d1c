using ModelSdk.Architecture;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Gpu;

/// <summary>
/// The GPU backend's whole forward pass on ILGPU's CPU accelerator: decode and batched prefill against llama2.c's
/// reference forward (<see cref="LlamaReference"/>) on small random models, and the stories15M greedy story through
/// <see cref="LanguageModel"/>.
/// </summary>
[Collection(Emulator.Collection)]
public sealed class GpuForwardTests
{
    private static readonly LlamaConfig[] Shapes =
    [
        // GQA (6 heads over 2 kv heads), head size 6, odd hidden and vocab, separate classifier.
        new() { Dim = 36, HiddenDim = 97, Layers = 2, Heads = 6, KvHeads = 2, VocabSize = 103, ContextLength = 17, SharedClassifier = false },
        // Multi-query, head size 20, shared classifier.
        new() { Dim = 80, HiddenDim = 33, Layers = 1, Heads = 4, KvHeads = 1, VocabSize = 50, ContextLength = 12, SharedClassifier = true },
    ];

    /// <summary>Small batches and attention splits, so a short prompt crosses both boundaries.</summary>
    private static GpuBackend Backend(NativeLlamaWeights weights, GpuWeightFormat format)
        => new(Emulator.Device, weights, format, ownsDevice: false) { MaxPrefillTokens = 5, AttentionChunk = 4 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decode_MatchesTheReferenceAtEveryPosition(bool half)
    {
        for (var s = 0; s < Shapes.Length; s++)
        {
            var config = Shapes[s];
            using var weights = NativeLlamaWeights.Random(config, seed: (ulong)(s + 1));
            using var backend = Backend(weights, half ? GpuWeightFormat.F16 : GpuWeightFormat.F32);
            using var session = backend.CreateGpuSession();
            var reference = new LlamaReference(weights);
            var random = new Random(s);
            for (var pos = 0; pos < config.ContextLength; pos++)
            {
                var token = random.Next(config.VocabSize);
                var expected = reference.Forward(token, pos);
                session.Forward(token, pos, computeLogits: true);
                var nmse = Numerics.Nmse(session.Logits(), expected);
                // fp16 weights: each rounded by up to 2^-11 relative, so logits move by ~1e-3 relative.
                Assert.True(nmse < (half ? 1e-4 : 1e-10), $"shape {s}, pos {pos}: NMSE {nmse}");
                Assert.Equal(Array.IndexOf(expected, expected.Max()), session.Argmax());
            }
        }
    }

    /// <summary>A 12-token prompt in batches of 5 (GEMMs, causal attention over the cache), then decode continues.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prefill_MatchesTheReference(bool half)
    {
        var config = Shapes[0];
        using var weights = NativeLlamaWeights.Random(config, seed: 7);
        using var backend = Backend(weights, half ? GpuWeightFormat.F16 : GpuWeightFormat.F32);
        using var session = backend.CreateGpuSession();
        var reference = new LlamaReference(weights);
        var random = new Random(3);
        var prompt = Enumerable.Range(0, 12).Select(_ => random.Next(config.VocabSize)).ToArray();
        float[] expected = [];
        for (var i = 0; i < prompt.Length; i++) expected = reference.Forward(prompt[i], i);
        session.Prefill(prompt, 0, computeLogits: true, CancellationToken.None);
        Assert.True(Numerics.Nmse(session.Logits(), expected) < (half ? 1e-4 : 1e-10));

        for (var pos = prompt.Length; pos < config.ContextLength; pos++)
        {
            var token = random.Next(config.VocabSize);
            expected = reference.Forward(token, pos);
            session.Forward(token, pos, computeLogits: true);
            Assert.True(Numerics.Nmse(session.Logits(), expected) < (half ? 1e-4 : 1e-10), $"pos {pos}");
        }
    }

    /// <summary>
    /// The first 16 tokens of llama2.c's greedy story (4 prompt tokens, then 12 generated) from the real stories15M,
    /// through <see cref="LanguageModel"/> on the GPU backend: batched prefill of the prompt, then 11 decode steps with
    /// the greedy pick made on the device.
    /// </summary>
    [Fact]
    public void Stories15M_GreedyStoryOnTheEmulator()
    {
        var expected = TestModels.ParseIds(File.ReadAllText(Path.Combine(TestModels.SharedModels, "stories15M.greedy.once-upon-a-time.ids")))[..16];
        using var model = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Device = ModelDevice.Cuda }, null, false,
            () => GpuDevice.CreateEmulator(warpSize: 2, warpsPerGroup: 4, multiprocessors: 2));
        Assert.Equal(ModelDevice.Cuda, model.Device);
        var prompt = model.Tokenize("Once upon a time");
        var generated = model.GenerateTokens(prompt, new GenerationOptions { Temperature = 0, MaxTokens = 12 }).ToArray();
        int[] actual = [.. prompt[1..], .. generated];
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void CudaWithoutAGpu_IsMsdk2005()
    {
        using (var probe = GpuDevice.TryCreateCuda())
        {
            if (probe is not null) return; // a machine with a GPU: nothing to check here
        }
        var error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Device = ModelDevice.Cuda }));
        Assert.Equal(DiagnosticCodes.CudaDeviceNotAvailable, error.Code);
        Assert.Contains("MSDK2005", error.Message);

        using var auto = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Threads = 1 });
        Assert.Equal(ModelDevice.Cpu, auto.Device);
    }

    [Fact]
    public void AGpuThatFailsToStart_IsMsdk2005NotAFallback()
    {
        var error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Device = ModelDevice.Auto },
            null, false, () => throw new InvalidOperationException("CUDA_ERROR_OUT_OF_MEMORY")));
        Assert.Equal(DiagnosticCodes.CudaDeviceNotAvailable, error.Code);
        Assert.Contains("CUDA_ERROR_OUT_OF_MEMORY", error.Message);
    }

    [Fact]
    public void CpuDevice_NeverTouchesTheGpu()
    {
        using var model = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Device = ModelDevice.Cpu, Threads = 1 }, null, false,
            () => throw new InvalidOperationException("must not be called"));
        Assert.Equal(ModelDevice.Cpu, model.Device);
        Assert.Throws<ArgumentOutOfRangeException>(() => LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Device = (ModelDevice)7 }));
    }
}
