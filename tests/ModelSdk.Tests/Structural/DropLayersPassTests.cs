using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Tensors;
using ModelSdk.Tests.Quantization;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Structural;

/// <summary>drop-layers: which blocks go, how the rest is renumbered, that the smaller model compiles and runs, and its errors.</summary>
public sealed class DropLayersPassTests
{
    private static readonly Architecture.LlamaConfig FourBlocks = GptqTestSupport.Tiny with { Layers = 4 };

    private static string Checkpoint => Path.Combine(TestModels.SharedModels, "stories15M.bin");

    private static string Tokenizer => Path.Combine(TestModels.SharedModels, "tokenizer.model");

    private static IReadOnlyList<IModelPass> Pipeline(string? prune, string? quantize, params (string Name, string Value)[] options)
        => PassRegistry.CreatePipeline(prune, quantize, new PassOptions(options.Select(o => new KeyValuePair<string, string>(o.Name, o.Value))));

    private static IModelPass DropLayers(string value) => Assert.Single(Pipeline(null, null, ("DropLayers", value)));

    [Fact]
    public void Listed_blocks_are_removed_and_the_others_renumbered_in_order()
    {
        using var model = GptqTestSupport.RandomModel(FourBlocks, seed: 5);
        using var original = GptqTestSupport.RandomModel(FourBlocks, seed: 5);
        var pass = DropLayers("layers.2, LAYERS.0");
        Assert.Equal([new("DropLayers", "layers.0,layers.2")], pass.Options);
        Assert.False(pass.NeedsCalibration);
        Assert.Equal(2, pass.OutputConfig(FourBlocks).Layers);

        pass.Run(model, new PassContext());

        Assert.Equal(FourBlocks with { Layers = 2 }, model.Config);
        // New block 0 is old block 1, new block 1 is old block 3, every tensor of them.
        foreach (var (kept, now) in new[] { (1, 0), (3, 1) })
            foreach (var kind in LlamaLinears.All)
                Assert.Equal(original.GetFloats(LlamaLinears.TensorName(kind, kept)), model.GetFloats(LlamaLinears.TensorName(kind, now)));
        Assert.Equal(original.GetFloats(TensorNames.FfnNorm(3)), model.GetFloats(TensorNames.FfnNorm(1)));
        Assert.False(model.Contains(TensorNames.Wq(2)));
        // The order is the canonical one of a two-block model: what an import of such a model lists.
        using var twoBlocks = GptqTestSupport.RandomModel(FourBlocks with { Layers = 2 }, seed: 5);
        Assert.Equal(twoBlocks.TensorNames, model.TensorNames);
    }

    [Fact]
    public void A_count_drops_the_blocks_whose_output_is_most_like_their_input()
    {
        using var model = GptqTestSupport.RandomModel(FourBlocks, seed: 5);
        // Block 2 adds nothing to the residual stream (its output projections are zero): similarity exactly 1.
        model.SetFloats(TensorNames.Wo(2), new float[model[TensorNames.Wo(2)].ElementCount]);
        model.SetFloats(TensorNames.W2(2), new float[model[TensorNames.W2(2)].ElementCount]);
        var sequences = GptqTestSupport.RandomSequences(FourBlocks, 5, seed: 9);
        var similarity = LayerImportance.InputOutputCosine(model, new CalibrationText(sequences));
        Assert.Equal(1.0, similarity[2], 1e-9);
        Assert.All(similarity.Where((_, l) => l != 2), s => Assert.InRange(s, -1, 0.999));
        var expectedSecond = Enumerable.Range(0, 4).Where(l => l != 2).MaxBy(l => similarity[l]);

        var pass = DropLayers("2");
        Assert.True(pass.NeedsCalibration);
        using var original = GptqTestSupport.RandomModel(FourBlocks, seed: 5);
        var log = new List<string>();
        var context = GptqTestSupport.Context(sequences, log);
        pass.Run(model, context);

        Assert.Equal(2, model.Config.Layers);
        var dropped = new[] { 2, expectedSecond }.Order().ToArray();
        var kept = Enumerable.Range(0, 4).Except(dropped).ToArray();
        for (var now = 0; now < kept.Length; now++)
            Assert.Equal(original.GetFloats(TensorNames.W1(kept[now])), model.GetFloats(TensorNames.W1(now)));
        Assert.Equal(string.Join(",", dropped.Select(l => $"layers.{l}")), context.ResultsOf(pass)!["dropped"]);
        Assert.Contains(log, m => m.StartsWith("drop-layers: cosine similarity of each block's input and output: layers.0 ", StringComparison.Ordinal));
    }

    [Fact]
    public void Stories15M_without_its_last_block_compiles_to_five_blocks_and_runs_what_the_weights_say()
    {
        var plan = ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = [DropLayers("layers.5")] });
        Assert.Equal(5, plan.Manifest.Config.Layers); // known from the header: the generator's Layers constant is right before any work
        var artifact = Path.Combine(TestModels.TempDirectory, "stories15M-drop5.msdk");
        ModelCompiler.Compile(plan, artifact);

        using var model = LanguageModel.Load(artifact, new LoadOptions { Threads = 2, Device = ModelDevice.Cpu });
        Assert.Equal(5, model.Config.Layers);
        Assert.Equal("drop-layers", Assert.Single(model.Manifest.Provenance.Passes).Name);
        var tokens = model.Tokenize("Once upon a time, there was");
        var logits = model.GetNextTokenLogits(tokens);

        // The runtime computes what the fp32 calibration forward computes on the import without block 5.
        using var imported = Llama2CheckpointImporter.Import(Checkpoint);
        using var expected = WorkingModel.FromImported(imported);
        expected.KeepLayers([0, 1, 2, 3, 4]);
        var reference = GptqModelOutput.Logits(expected, [tokens]).Row(tokens.Length - 1).ToArray();
        var worst = logits.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-3, $"largest logit difference {worst}");
        Assert.NotEqual(TestModels.Stories15M.GetNextTokenLogits(tokens), logits);
    }

    [Fact]
    public void Structural_passes_run_first_and_later_passes_are_validated_on_the_smaller_model()
    {
        var passes = Pipeline("wanda", "rtn-int4", ("Sparsity", "0.5"), ("DropLayers", "1"), ("LowRankRatio", "0.5"));
        Assert.Equal(["drop-layers", "low-rank", "wanda", "rtn-int4"], passes.Select(p => p.Name));

        // layers.5 exists in stories15M but not after one block is dropped.
        var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test")
        {
            Passes = Pipeline("magnitude", null, ("DropLayers", "layers.0"), ("PruneLayers", "layers.5")),
        }));
        Assert.Equal(DiagnosticCodes.UnknownPruneLayer, error.Code);
    }

    [Fact]
    public void The_cache_key_follows_DropLayers_and_a_count_needs_calibration_data()
    {
        string Key(string value, string? calibration = null) => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test")
        {
            Passes = [DropLayers(value)], CalibrationPath = calibration,
        }).CacheKey;
        Assert.NotEqual(Key("layers.1"), Key("layers.2"));
        Assert.Equal(Key("layers.1,layers.2"), Key("2; 1"));

        var error = Assert.Throws<ModelSdkException>(() => Key("1"));
        Assert.Equal(DiagnosticCodes.CalibrationDataInvalid, error.Code);
        var calibration = Path.Combine(TestModels.RepoRoot, "samples", "TinyStories", "data", "calibration.txt");
        Assert.NotEqual(Key("1", calibration), Key("2", calibration));
    }

    [Theory]
    [InlineData("6", "would drop every block")]
    [InlineData("layers.6", "names 'layers.6', which is no block of this model (6 blocks, layers.0 to layers.5)")]
    [InlineData("0,1,2,3,4,5", "would drop every block")]
    [InlineData("layers.2,layers.2", "lists a block twice")]
    public void Dropping_every_block_or_one_the_model_lacks_is_MSDK1052(string value, string expected)
    {
        var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = [DropLayers(value)] }));
        Assert.Equal(DiagnosticCodes.InvalidDropLayers, error.Code);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("last")]
    [InlineData("layers.x")]
    [InlineData(",")]
    public void A_value_that_is_neither_a_count_nor_blocks_is_MSDK1012(string value)
    {
        var error = Assert.Throws<ModelSdkException>(() => DropLayers(value));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, error.Code);
    }
}
