using ModelSdk.Artifacts;
using ModelSdk.Compression.Passes;
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
