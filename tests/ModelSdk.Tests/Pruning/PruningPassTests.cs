using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;
using ModelSdk.Tests.Quantization;

namespace ModelSdk.Tests.Pruning;

/// <summary>The three pruning passes on a tiny random model: exact sparsity per row and per group, what stays dense, and the errors for bad options.</summary>
public sealed class PruningPassTests
{
    private static readonly string[] Methods = ["magnitude", "wanda", "sparsegpt"];

    /// <summary>The pruning pass of a pipeline (2:4 pipelines also store the result compressed: a second pass, not run here).</summary>
    private static IModelPass Create(string method, params (string Name, string Value)[] options)
        => PassRegistry.CreatePipeline(method, null, new PassOptions(options.Select(o => new KeyValuePair<string, string>(o.Name, o.Value))))[0];

    private static WorkingModel Pruned(string method, params (string Name, string Value)[] options)
    {
        var model = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 7);
        var pass = Create(method, options);
        pass.Validate(model.Config);
        pass.Run(model, GptqTestSupport.Context(GptqTestSupport.RandomSequences(GptqTestSupport.Tiny, 6, seed: 3)));
        return model;
    }

    public static TheoryData<string, string> MethodsAndPatterns()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in Methods)
            foreach (var pattern in new[] { "0.5", "2:4", "4:8", "30%" })
                data.Add(method, pattern);
        return data;
    }

    [Theory]
    [MemberData(nameof(MethodsAndPatterns))]
    public void EveryLayerMatrix_HasExactlyTheRequestedZeros_PerRowOrPerGroup(string method, string sparsity)
    {
        using var model = Pruned(method, ("Sparsity", sparsity));
        var pattern = SparsityPattern.Parse(sparsity);
        using var original = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 7);
        foreach (var name in model.LayerMatrices)
        {
            var tensor = model[name];
            var weights = model.GetFloats(name);
            var before = original.GetFloats(name);
            for (var r = 0; r < tensor.Rows; r++)
            {
                var row = weights.AsSpan(r * tensor.Cols, tensor.Cols);
                if (pattern.IsSemiStructured)
                {
                    for (var at = 0; at < row.Length; at += pattern.GroupSize)
                        Assert.Equal(pattern.PrunedPerGroup, Zeros(row.Slice(at, pattern.GroupSize)));
                }
                else
                {
                    Assert.Equal((int)Math.Round(pattern.Ratio * tensor.Cols, MidpointRounding.AwayFromZero), Zeros(row));
                }
                // Magnitude and Wanda only zero; SparseGPT also updates the weights it keeps.
                if (method != "sparsegpt")
                    for (var c = 0; c < row.Length; c++)
                        Assert.True(row[c] == 0 || row[c] == before[r * tensor.Cols + c]);
            }
        }
        // The literature's default: the embedding / classifier and the norms stay as they were.
        Assert.Equal(original.GetFloats(TensorNames.TokenEmbedding), model.GetFloats(TensorNames.TokenEmbedding));
        Assert.Equal(original.GetFloats(TensorNames.FinalNorm), model.GetFloats(TensorNames.FinalNorm));
    }

    [Theory]
    [InlineData("magnitude")]
    [InlineData("wanda")]
    [InlineData("sparsegpt")]
    public void PruneLayers_AndPruneClassifier_ChooseTheMatrices(string method)
    {
        using var model = Pruned(method, ("Sparsity", "2:4"), ("PruneLayers", "w2; layers.0.attention.wq"), ("PruneClassifier", "true"));
        using var original = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 7);
        string[] pruned = [TensorNames.W2(0), TensorNames.W2(1), TensorNames.Wq(0), TensorNames.TokenEmbedding];
        foreach (var name in model.LayerMatrices.Append(TensorNames.TokenEmbedding))
        {
            var zeros = Zeros(model.GetFloats(name));
            if (pruned.Contains(name)) Assert.Equal(model[name].ElementCount / 2, zeros);
            else Assert.Equal(original.GetFloats(name), model.GetFloats(name));
        }
    }

    [Theory]
    [InlineData("magnitude")]
    [InlineData("sparsegpt")]
    public void PruneLayers_CanGiveAMatrixItsOwnSparsity(string method)
    {
        using var model = Pruned(method, ("Sparsity", "0.5"), ("PruneLayers", "W1=25%; w2=2:4, wq, layers.1.attention.wq=0.75"));
        var pass = Create(method, ("Sparsity", "0.5"), ("PruneLayers", "W1=25%; w2=2:4, wq, layers.1.attention.wq=0.75"));
        Assert.Equal("w1=0.25,w2=2:4,wq,layers.1.attention.wq=0.75", pass.Options.Single(o => o.Key == "PruneLayers").Value);
        using var original = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 7);
        foreach (var name in model.LayerMatrices)
        {
            var tensor = model[name];
            var weights = model.GetFloats(name);
            int? perRow = name switch
            {
                _ when name.EndsWith(".w1", StringComparison.Ordinal) => tensor.Cols / 4,
                _ when name.EndsWith(".w2", StringComparison.Ordinal) => tensor.Cols / 2,
                "layers.1.attention.wq" => tensor.Cols * 3 / 4,
                _ when name.EndsWith(".wq", StringComparison.Ordinal) => tensor.Cols / 2,
                _ => null,
            };
            if (perRow is null)
            {
                Assert.Equal(original.GetFloats(name), weights);
                continue;
            }
            for (var r = 0; r < tensor.Rows; r++) Assert.Equal(perRow.Value, Zeros(weights.AsSpan(r * tensor.Cols, tensor.Cols)));
            if (name.EndsWith(".w2", StringComparison.Ordinal))
                for (var at = 0; at < weights.Length; at += 4) Assert.Equal(2, Zeros(weights.AsSpan(at, 4)));
        }
    }

    [Fact]
    public void PerMatrixSparsity_IsCheckedLikeSparsity()
    {
        Assert.Equal(DiagnosticCodes.InvalidSparsity, Assert.Throws<ModelSdkException>(() => Create("wanda", ("PruneLayers", "w1=1.5"))).Code);
        var pass = Create("wanda", ("PruneLayers", "w1=0.3,w2=24:48"));
        Assert.Equal(DiagnosticCodes.SparsityGroupDoesNotDivide, Assert.Throws<ModelSdkException>(() => pass.Validate(GptqTestSupport.Tiny)).Code);
        Assert.Equal(DiagnosticCodes.UnknownPruneLayer,
            Assert.Throws<ModelSdkException>(() => Create("wanda", ("PruneLayers", "w9=0.3")).Validate(GptqTestSupport.Tiny)).Code);
    }

    [Fact]
    public void Wanda_WithEqualInputNorms_IsMagnitudePruning_AndOtherwiseFavoursStrongInputs()
    {
        var weights = GptqTestSupport.Gaussian(8 * 16, seed: 5);
        var magnitude = (float[])weights.Clone();
        for (var r = 0; r < 8; r++)
        {
            var row = magnitude.AsSpan(r * 16, 16);
            var scores = new double[16];
            for (var c = 0; c < 16; c++) scores[c] = Math.Abs(row[c]);
            PruningMask.Apply(row, scores, SparsityPattern.Unstructured(0.5));
        }
        Assert.Equal(magnitude, WandaPass.Prune(weights, 8, 16, Enumerable.Repeat(3.0, 16).ToArray(), SparsityPattern.Unstructured(0.5)));

        // A channel with a thousand times the input norm keeps its weight in every row.
        var norms = Enumerable.Repeat(1.0, 16).ToArray();
        norms[5] = 1000;
        var wanda = WandaPass.Prune(weights, 8, 16, norms, SparsityPattern.SemiStructured(2, 4));
        for (var r = 0; r < 8; r++) Assert.Equal(weights[r * 16 + 5], wanda[r * 16 + 5]);
    }

    [Fact]
    public void SparseGpt_ReconstructsTheOutput_BetterThanWandaAndMagnitude_OnCorrelatedInputs()
    {
        const int rows = 24, cols = 64, tokens = 512;
        var x = GptqTestSupport.CorrelatedActivations(tokens, cols, seed: 11);
        var w = GptqTestSupport.Gaussian(rows * cols, seed: 12);
        var gram = new double[cols * cols];
        for (var t = 0; t < tokens; t++)
            for (var i = 0; i < cols; i++)
                for (var j = 0; j < cols; j++) gram[i * cols + j] += 2.0 * x.Data[t * cols + i] * x.Data[t * cols + j] / tokens;
        foreach (var pattern in new[] { SparsityPattern.Unstructured(0.5), SparsityPattern.SemiStructured(2, 4) })
        {
            var magnitude = WandaPass.Prune(w, rows, cols, Enumerable.Repeat(1.0, cols).ToArray(), pattern);
            var wanda = WandaPass.Prune(w, rows, cols, WandaPass.ChannelNorms(x), pattern);
            var sparse = SparseGptPruner.Prune(w, rows, cols, gram, pattern).Pruned;
            double errMagnitude = GptqTestSupport.OutputError(w, magnitude, rows, cols, x),
                errWanda = GptqTestSupport.OutputError(w, wanda, rows, cols, x),
                errSparse = GptqTestSupport.OutputError(w, sparse, rows, cols, x);
            Assert.True(errWanda < errMagnitude, $"{pattern}: Wanda {errWanda:G4} vs magnitude {errMagnitude:G4}");
            Assert.True(errSparse < errWanda, $"{pattern}: SparseGPT {errSparse:G4} vs Wanda {errWanda:G4}");
            Assert.Equal(Zeros(magnitude), Zeros(sparse));
        }
    }

    [Fact]
    public void Passes_AreDeterministic()
    {
        using var a = Pruned("sparsegpt", ("Sparsity", "0.4"));
        using var b = Pruned("sparsegpt", ("Sparsity", "40%"));
        foreach (var name in a.LayerMatrices) Assert.Equal(a.GetFloats(name), b.GetFloats(name));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("1.5")]
    [InlineData("-0.2")]
    [InlineData("100%")]
    [InlineData("4:4")]
    [InlineData("0:4")]
    [InlineData("2:")]
    [InlineData("half")]
    [InlineData("2:128")]
    public void SparsityOutsideTheRange_IsMsdk1020(string sparsity)
    {
        var e = Assert.Throws<ModelSdkException>(() => Create("wanda", ("Sparsity", sparsity)));
        Assert.Equal(DiagnosticCodes.InvalidSparsity, e.Code);
        Assert.Contains($"Sparsity=\"{sparsity}\"", e.Message);
    }

    [Theory]
    [InlineData("3:6", null, "layers.0.attention.wq")]
    [InlineData("24:48", "w2", null)] // hidden_dim 128 is no multiple of 48 either
    [InlineData("16:48", "layers.1.feed_forward.w2", "layers.1.feed_forward.w2")]
    public void GroupsThatDoNotDivideARow_AreMsdk1021_BeforeAnyWork(string sparsity, string? layers, string? culprit)
    {
        var options = layers is null ? new[] { ("Sparsity", sparsity) } : [("Sparsity", sparsity), ("PruneLayers", layers)];
        var pass = Create("sparsegpt", options);
        var e = Assert.Throws<ModelSdkException>(() => pass.Validate(GptqTestSupport.Tiny));
        Assert.Equal(DiagnosticCodes.SparsityGroupDoesNotDivide, e.Code);
        if (culprit is not null) Assert.Contains(culprit, e.Message);
    }

    [Theory]
    [InlineData("layers.2")] // the tiny model has blocks 0 and 1
    [InlineData("wx")]
    [InlineData("w1,layers.0.attention.wz")]
    [InlineData("output")]
    public void UnknownLayers_AreMsdk1022(string layers)
    {
        var pass = Create("magnitude", ("PruneLayers", layers));
        var e = Assert.Throws<ModelSdkException>(() => pass.Validate(GptqTestSupport.Tiny));
        Assert.Equal(DiagnosticCodes.UnknownPruneLayer, e.Code);
        Assert.Contains("layers.0 to layers.1", e.Message);
    }

    [Fact]
    public void PipelineOrder_IsPruneThenQuantize_AndStrayOrUnknownNamesAreErrors()
    {
        var passes = PassRegistry.CreatePipeline("sparsegpt", "rtn-int4",
            new PassOptions([new("Sparsity", "2:4"), new("GroupSize", "64")]));
        Assert.Equal(["sparsegpt", "rtn-int4"], passes.Select(p => p.Name));
        // 2:4 of every block matrix, left f32 or made f16, is stored compressed unless SparseStorage="dense".
        Assert.Equal(["wanda", "sparse24-storage"], PassRegistry.CreatePipeline("wanda", null, new PassOptions([new("Sparsity", "2:4")])).Select(p => p.Name));
        Assert.Equal(["wanda", "f16", "sparse24-storage"], PassRegistry.CreatePipeline("wanda", "f16", new PassOptions([new("Sparsity", "2:4")])).Select(p => p.Name));
        Assert.Equal(["wanda"], PassRegistry.CreatePipeline("wanda", "", new PassOptions([new("Sparsity", "2:4"), new("SparseStorage", "dense")])).Select(p => p.Name));
        Assert.Equal(["wanda"], PassRegistry.CreatePipeline("wanda", null, new PassOptions([new("Sparsity", "2:4"), new("PruneLayers", "w1")])).Select(p => p.Name));
        Assert.Equal(["wanda"], PassRegistry.CreatePipeline("wanda", null, new PassOptions([new("Sparsity", "4:8")])).Select(p => p.Name));
        Assert.Equal("2:4", passes[0].Options.Single(o => o.Key == "Sparsity").Value);
        Assert.Equal("64", passes[1].Options.Single(o => o.Key == "GroupSize").Value);

        Assert.Equal(DiagnosticCodes.InvalidCompressionOption,
            Assert.Throws<ModelSdkException>(() => PassRegistry.CreatePipeline(null, "rtn-int4", new PassOptions([new("Sparsity", "0.5")]))).Code);
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption,
            Assert.Throws<ModelSdkException>(() => PassRegistry.CreatePipeline("magnitude", null, new PassOptions([new("GroupSize", "64")]))).Code);
        var unknown = Assert.Throws<ModelSdkException>(() => PassRegistry.CreatePipeline("obs", null, PassOptions.Empty));
        Assert.Equal(DiagnosticCodes.UnknownCompressionPass, unknown.Code);
        Assert.Contains("none, magnitude, wanda, sparsegpt", unknown.Message);
        Assert.False(Create("magnitude").NeedsCalibration);
        Assert.True(Create("wanda").NeedsCalibration);
        Assert.Equal("0.5", Create("sparsegpt").Options.Single(o => o.Key == "Sparsity").Value);
    }

    private static int Zeros(ReadOnlySpan<float> values)
    {
        var count = 0;
        foreach (var v in values) if (v == 0) count++;
        return count;
    }
}
