using ModelSdk.Artifacts;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Runtime;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Pruning;

/// <summary>stories15M pruned 2:4 by magnitude (no calibration needed: fast), stored compressed and dense, loaded and run by the runtime.</summary>
public sealed class PrunedModelTests
{
    private static string Checkpoint => Path.Combine(TestModels.SharedModels, "stories15M.bin");

    private static string Tokenizer => Path.Combine(TestModels.SharedModels, "tokenizer.model");

    private static readonly Lazy<string> Compressed = new(() => Compile("compressed", "magnitude", "none", "compressed"));
    private static readonly Lazy<string> Dense = new(() => Compile("dense", "magnitude", "none", "dense"));
    private static readonly Lazy<string> CompressedF16 = new(() => Compile("compressed-f16", "magnitude", "f16", "compressed"));
    private static readonly Lazy<string> CompressedQ8 = new(() => Compile("compressed-q8", "magnitude", "rtn-int8", "compressed"));
    private static readonly Lazy<string> DenseQ8 = new(() => Compile("dense-q8", "magnitude", "rtn-int8", "dense"));

    /// <summary>stories15M magnitude-pruned 2:4, stored f32_sparse24 / q8_g32_sparse24 (compiled once per test run).</summary>
    internal static string CompressedF32Artifact => Compressed.Value;

    internal static string CompressedQ8Artifact => CompressedQ8.Value;

    private static IReadOnlyList<IModelPass> Pipeline(string prune, string quantize, string storage, string sparsity = "2:4")
        => PassRegistry.CreatePipeline(prune, quantize, new PassOptions([new("Sparsity", sparsity), new("SparseStorage", storage)]));

    private static string Compile(string name, string prune, string quantize, string storage)
    {
        var plan = ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = Pipeline(prune, quantize, storage) });
        var path = Path.Combine(TestModels.TempDirectory, $"stories15M-2of4-{name}.msdk");
        ModelCompiler.Compile(plan, path);
        return path;
    }

    [Fact]
    public void Compressed24_StoresEveryBlockMatrixInHalfTheValues_AndTheEmbeddingDense()
    {
        using var compressed = ModelArtifact.Open(Compressed.Value);
        using var dense = ModelArtifact.Open(Dense.Value);
        Assert.Equal("f32_sparse24", compressed.Manifest.WeightFormat);
        Assert.Equal("f32", dense.Manifest.WeightFormat);
        Assert.Equal(["magnitude", "sparse24-storage"], compressed.Manifest.Provenance.Passes.Select(p => p.Name));
        Assert.Equal("f32", compressed.GetEntry(TensorNames.TokenEmbedding).Type);
        long compressedBytes = 0, denseBytes = 0;
        for (var l = 0; l < compressed.Manifest.Config.Layers; l++)
        {
            foreach (var name in new[] { TensorNames.Wq(l), TensorNames.Wk(l), TensorNames.Wv(l), TensorNames.Wo(l), TensorNames.W1(l), TensorNames.W2(l), TensorNames.W3(l) })
            {
                Assert.Equal("f32_sparse24", compressed.GetEntry(name).Type);
                compressedBytes += compressed.GetEntry(name).Length;
                denseBytes += dense.GetEntry(name).Length;
            }
        }
        Assert.Equal(17.0 / 32, (double)compressedBytes / denseBytes, 6); // 16 bits of value + 1 bit of position per weight
        Assert.True(new FileInfo(Compressed.Value).Length < new FileInfo(Dense.Value).Length - 10_000_000);
    }

    [Fact]
    public void Compressed24_GivesTheLogitsOfTheDenseStorage_AndWritesAStory()
    {
        using var compressed = LanguageModel.Load(Compressed.Value, new LoadOptions { Threads = 2 });
        using var dense = LanguageModel.Load(Dense.Value, new LoadOptions { Threads = 2 });
        var prompt = compressed.Tokenize("Once upon a time, there was a little girl", addBos: true);
        Assert.True(Nmse(compressed.GetNextTokenLogits(prompt), dense.GetNextTokenLogits(prompt)) < 1e-10);
        var story = compressed.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 });
        Assert.True(story.Split(' ').Length > 20, story);
        Assert.Equal(dense.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }), story);
    }

    [Fact]
    public void Compressed24F16_RunsCloseToTheF32Storage()
    {
        using var artifact = ModelArtifact.Open(CompressedF16.Value);
        Assert.Equal("f16_sparse24", artifact.Manifest.WeightFormat);
        using var half = LanguageModel.Load(CompressedF16.Value, new LoadOptions { Threads = 2 });
        using var full = LanguageModel.Load(Compressed.Value, new LoadOptions { Threads = 2 });
        var prompt = half.Tokenize("Once upon a time, there was a little girl", addBos: true);
        Assert.True(Nmse(half.GetNextTokenLogits(prompt), full.GetNextTokenLogits(prompt)) < 1e-5);
    }

    [Fact]
    public void Compressed24Q8_HoldsTheDenseQ8Codes_InTwoThirdsOfTheBytes_AndGivesItsLogitsAndStory()
    {
        using (var compressed = ModelArtifact.Open(CompressedQ8.Value))
        using (var dense = ModelArtifact.Open(DenseQ8.Value))
        {
            Assert.Equal("q8_g32_sparse24", compressed.Manifest.WeightFormat);
            Assert.Equal(["magnitude", "rtn-int8", "sparse24-storage"], compressed.Manifest.Provenance.Passes.Select(p => p.Name));
            Assert.Equal("q8_g32", compressed.GetEntry(TensorNames.TokenEmbedding).Type);
            var wq = TensorNames.Wq(0);
            Assert.Equal(dense.GetEntry(wq).Length * (0.5 + 0.125 + 2.0 / 32) / (1 + 2.0 / 32), compressed.GetEntry(wq).Length);
        }
        using var sparse = LanguageModel.Load(CompressedQ8.Value, new LoadOptions { Threads = 2 });
        using var q8 = LanguageModel.Load(DenseQ8.Value, new LoadOptions { Threads = 2 });
        var prompt = sparse.Tokenize("Once upon a time, there was a little girl", addBos: true);
        var nmse = Nmse(sparse.GetNextTokenLogits(prompt), q8.GetNextTokenLogits(prompt));
        // Summation order differs from the dense kernel's; a last-bit change of an activation can move its int16 rounding by one step.
        Assert.True(nmse < 1e-8, $"NMSE {nmse:g3}");
        var story = sparse.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 });
        Assert.True(story.Split(' ').Length > 20, story);
        Assert.Equal(q8.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }), story);
    }

    [Fact]
    public void CompressedQ8Storage_IsChosenForRtnInt8Only_AtItsGroupSize()
    {
        static string? Stored(string quantize, params KeyValuePair<string, string>[] more)
            => PassRegistry.CreatePipeline("magnitude", quantize, new PassOptions([new("Sparsity", "2:4"), .. more]))
                .OfType<Sparse24StoragePass>().SingleOrDefault()?.Format.Name;
        Assert.Equal("q8_g32_sparse24", Stored("rtn-int8"));
        Assert.Equal("q8_g128_sparse24", Stored("rtn-int8", new KeyValuePair<string, string>("GroupSize", "128")));
        Assert.Null(Stored("gptq-int8")); // GPTQ refills the pruned zeros
        Assert.Null(Stored("rtn-int4")); // no compressed int4 2:4 type
        Assert.Null(Stored("rtn-int8", new KeyValuePair<string, string>("SparseStorage", "dense")));
    }

    [Fact]
    public void CacheKey_CoversTheWholeOrderedPipeline()
    {
        string Key(IReadOnlyList<IModelPass> passes) => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = passes }).CacheKey;
        var baseline = Key(Pipeline("magnitude", "rtn-int4", "compressed"));
        Assert.Equal(baseline, Key(PassRegistry.CreatePipeline("MAGNITUDE", "rtn-int4", new PassOptions([new("Sparsity", "2:4")]))));
        string[] others =
        [
            Key(PassRegistry.Create("rtn-int4", PassOptions.Empty)),
            Key(Pipeline("magnitude", "none", "compressed")),
            Key(Pipeline("magnitude", "none", "dense")),
            Key(Pipeline("magnitude", "f16", "compressed")),
            Key(Pipeline("magnitude", "rtn-int4", "compressed", "4:8")),
            Key(Pipeline("magnitude", "rtn-int4", "compressed", "0.5")),
            Key(Pipeline("magnitude", "rtn-int8", "compressed")),
            // The same two passes in the other order are another pipeline.
            Key([.. Pipeline("magnitude", "rtn-int4", "compressed").Reverse()]),
        ];
        Assert.DoesNotContain(baseline, others);
        Assert.Equal(others.Length, others.Distinct().Count());
    }
}
