using ModelSdk.Artifacts;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Structural;

/// <summary>
/// Low-rank matrices stored as their factors: stories15M with w1, w2, w3 at LowRankRatio 0.5 against the same model
/// stored as dense products (LowRankStorage="dense", what version 1 of the pass wrote): same logits up to fp32 rounding, the file smaller by
/// the values the factors save, the factors read back exactly, and the GPU backend refusing them with the fix.
/// </summary>
public sealed class FactoredStorageTests
{
    private static readonly string[] FeedForward = ["w1", "w2", "w3"];

    private static readonly Lazy<(string Factored, string Dense)> Artifacts = new(() =>
    {
        var factored = Compile("stories15M-lr50-factored.msdk", LowRank(factored: true));
        var dense = Compile("stories15M-lr50-dense.msdk", LowRank(factored: false));
        return (factored, dense);
    });

    private static LowRankPass LowRank(bool factored) => new(0.5, null, FeedForward, factored: factored);

    private static string Compile(string name, params IModelPass[] passes)
    {
        var shared = TestModels.SharedModels;
        var request = new CompileRequest(Path.Combine(shared, "stories15M.bin"), Path.Combine(shared, "tokenizer.model"), "test") { Passes = passes };
        var artifact = Path.Combine(TestModels.TempDirectory, name);
        ModelCompiler.Compile(ModelCompiler.Plan(request), artifact);
        return artifact;
    }

    [Fact]
    public void Factored_artifact_stores_A_and_B_instead_of_the_matrix_and_is_smaller_by_what_they_save()
    {
        var (factoredPath, densePath) = Artifacts.Value;
        using var factored = ModelArtifact.Open(factoredPath);
        var c = factored.Manifest.Config;
        const long rank = 104; // ⌊0.5 · 288 · 768 / (288 + 768)⌋
        long saved = 0;
        for (var l = 0; l < c.Layers; l++)
        {
            foreach (var (name, rows, cols) in new[] { (TensorNames.W1(l), c.HiddenDim, c.Dim), (TensorNames.W2(l), c.Dim, c.HiddenDim), (TensorNames.W3(l), c.HiddenDim, c.Dim) })
            {
                Assert.False(factored.Contains(name));
                Assert.Equal([rank, (long)cols], factored.GetEntry(TensorNames.LowRankA(name)).Shape);
                Assert.Equal([(long)rows, rank], factored.GetEntry(TensorNames.LowRankB(name)).Shape);
                Assert.Equal("f32", factored.GetEntry(TensorNames.LowRankB(name)).Type);
                saved += ((long)rows * cols - rank * (rows + cols)) * sizeof(float);
            }
            Assert.True(factored.Contains(TensorNames.Wq(l))); // the attention matrices stay dense
        }
        Assert.Equal(18 * (768L * 288 - 104 * (768 + 288)) * 4, saved); // 8.0 MB of stories15M's 60.8 MB
        // The rest differs only by 64-byte alignment and the longer tensor table.
        var difference = new FileInfo(densePath).Length - new FileInfo(factoredPath).Length;
        Assert.InRange(difference, saved - 8192, saved + 64);
    }

    [Fact]
    public void Factored_model_computes_the_dense_products_logits_up_to_fp32_rounding()
    {
        var (factoredPath, densePath) = Artifacts.Value;
        using var factored = LanguageModel.Load(factoredPath, new LoadOptions { Threads = 2, Device = ModelDevice.Cpu });
        using var dense = LanguageModel.Load(densePath, new LoadOptions { Threads = 2, Device = ModelDevice.Cpu });
        var prompt = factored.Tokenize("Once upon a time, there was a little girl named Lily. She loved to play");
        var expected = dense.GetNextTokenLogits(prompt);
        var actual = factored.GetNextTokenLogits(prompt);
        var nmse = Numerics.Nmse(actual, expected);
        Assert.True(nmse < 1e-10, $"NMSE {nmse}");
        Assert.NotEqual(expected, actual); // B·(A·x) is summed in another order than (B·A)·x
        var greedy = new GenerationOptions { Temperature = 0, MaxTokens = 24 };
        Assert.Equal(dense.GenerateTokens(prompt, greedy), factored.GenerateTokens(prompt, greedy));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Fused_threaded_forward_matches_the_reference_and_batches_bit_identically(int threads)
    {
        using var artifact = ModelArtifact.Open(Artifacts.Value.Factored);
        using var weights = new ArtifactLlamaWeights(artifact, copyToHugePages: threads > 1);
        Assert.All(weights.Layers, layer => Assert.Equal([false, false, false, false, true, true, true], layer.Matrices.Select(m => m.IsFactored)));
        using var transformer = new LlamaTransformer(weights, threads, VectorWidths.Best, ownsWeights: false);
        using var single = transformer.CreateSession();
        using var batched = transformer.CreateSession();
        var reference = new LlamaReference(weights);
        int[] tokens = [1, 9038, 2501, 263, 931, 29892, 727, 471, 263];
        for (var pos = 0; pos < tokens.Length; pos++)
        {
            var expected = reference.Forward(tokens[pos], pos);
            single.Forward(tokens[pos], pos, computeLogits: true);
            var nmse = Numerics.Nmse(single.LogitsSpan, expected);
            Assert.True(nmse < 1e-9, $"pos {pos}: NMSE {nmse}");
        }
        batched.Forward(tokens, 0, computeLogits: true);
        Assert.Equal(single.LogitsSpan.ToArray(), batched.LogitsSpan.ToArray());
    }

    [Fact]
    public void Factors_read_back_exactly_as_the_pass_made_them()
    {
        using var imported = Llama2CheckpointImporter.Import(Path.Combine(TestModels.SharedModels, "stories15M.bin"));
        using var model = WorkingModel.FromImported(imported);
        LowRank(factored: true).Run(model, new PassContext());
        using var artifact = ModelArtifact.Open(Artifacts.Value.Factored);
        foreach (var name in model.LayerMatrices.Where(n => model[n].LowRank is not null))
        {
            var factors = model[name].LowRank!;
            Assert.Equal(factors.A, artifact.GetSpan<float>(TensorNames.LowRankA(name), TensorType.F32).ToArray());
            Assert.Equal(factors.B, artifact.GetSpan<float>(TensorNames.LowRankB(name), TensorType.F32).ToArray());
        }
        Assert.Equal(18, model.LayerMatrices.Count(n => model[n].LowRank is not null));
    }

    [Fact]
    public void Gpu_backend_refuses_factored_matrices_with_the_fix()
    {
        var error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(Artifacts.Value.Factored, new LoadOptions { Device = ModelDevice.Cuda }, null, false,
            () => GpuDevice.CreateEmulator(warpSize: 2, warpsPerGroup: 4, multiprocessors: 2)));
        Assert.Equal(DiagnosticCodes.ArtifactVersionUnsupported, error.Code);
        Assert.Contains("low-rank", error.Message);
        Assert.Contains("Device = ModelDevice.Cpu", error.Message);
        Assert.Contains("LowRankStorage=\"dense\"", error.Message);
    }

    [Fact]
    public void A_matrix_stored_both_dense_and_factored_or_with_one_factor_is_MSDK2002()
    {
        using var source = ModelArtifact.Open(Artifacts.Value.Factored);
        var w1 = TensorNames.W1(0);
        var both = Rewrite(source, "both.msdk", (name, add) =>
        {
            if (name == TensorNames.LowRankA(w1)) add(w1, TensorType.F32, [768, 288], new byte[768 * 288 * 4]);
        });
        var error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(both, new LoadOptions { Device = ModelDevice.Cpu }));
        Assert.Equal(DiagnosticCodes.ArtifactCorrupt, error.Code);
        Assert.Contains("both dense and as low-rank factors", error.Message);

        var onlyB = Rewrite(source, "only-b.msdk", (_, _) => { }, skip: TensorNames.LowRankA(w1));
        error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(onlyB, new LoadOptions { Device = ModelDevice.Cpu }));
        Assert.Equal(DiagnosticCodes.ArtifactCorrupt, error.Code);
        Assert.Contains($"'{TensorNames.LowRankA(w1)}' is missing", error.Message);
    }

    [Fact]
    public void A_later_quantization_stores_the_dense_product_and_the_build_log_says_so()
    {
        var passes = PassRegistry.CreatePipeline(null, "rtn-int8",
            new PassOptions([new("LowRankRatio", "0.5"), new("LowRankLayers", "layers.5.feed_forward.w2")]));
        var shared = TestModels.SharedModels;
        var request = new CompileRequest(Path.Combine(shared, "stories15M.bin"), Path.Combine(shared, "tokenizer.model"), "test") { Passes = passes };
        var path = Path.Combine(TestModels.TempDirectory, "stories15M-lr-int8.msdk");
        var log = new List<string>();
        ModelCompiler.Compile(ModelCompiler.Plan(request), path, new CompileOptions { Log = log.Add });
        Assert.Contains(log, line => line.Contains("low-rank: 1 of 1 factored matrices were stored dense by a later pass", StringComparison.Ordinal));
        using var artifact = ModelArtifact.Open(path);
        Assert.Equal(artifact.Manifest.WeightFormat, artifact.GetEntry(TensorNames.W2(5)).Type);
        Assert.False(artifact.Contains(TensorNames.LowRankA(TensorNames.W2(5))));
    }

    /// <summary>A copy of <paramref name="source"/> without <paramref name="skip"/> and with what <paramref name="extra"/> adds after each tensor.</summary>
    private static string Rewrite(ModelArtifact source, string name, Action<string, Action<string, TensorType, long[], byte[]>> extra, string? skip = null)
    {
        var writer = new ArtifactWriter();
        foreach (var entry in source.Manifest.Tensors!)
        {
            if (entry.Name == skip) continue;
            TensorTypeExtensions.TryParse(entry.Type, out var type);
            writer.Add(entry.Name, type, entry.Shape, TensorData.FromBytes(source.GetBytes(entry.Name).ToArray()));
            extra(entry.Name, (n, t, shape, bytes) => writer.Add(n, t, shape, TensorData.FromBytes(bytes)));
        }
        var path = Path.Combine(TestModels.TempDirectory, name);
        writer.Write(path, source.Manifest with { Tensors = null });
        return path;
    }
}
