using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Diagnostics;
using ModelSdk.Quantization;
using ModelSdk.Tensors;
using ModelSdk.Tests.Quantization;

namespace ModelSdk.Tests.Pruning;

/// <summary>
/// SparseGPT's joint sparsification and quantization (<c>JointQuantization="true"</c>): the kept weights quantized inside
/// the sweep, codes that round-to-nearest afterwards reproduces exactly, pruned zeros exactly zero, a smaller output
/// error than pruning then quantizing; and MSDK1023 for the combinations where that cannot hold.
/// </summary>
public sealed class JointQuantizationTests
{
    private static IReadOnlyList<IModelPass> Pipeline(string prune, string? quantize, params (string Name, string Value)[] options)
        => PassRegistry.CreatePipeline(prune, quantize, new PassOptions(options.Select(o => new KeyValuePair<string, string>(o.Name, o.Value))));

    [Theory]
    [InlineData("q8_g32", "2:4")]
    [InlineData("q8_g128", "2:4")]
    [InlineData("q4_g32_sym", "2:4")]
    [InlineData("q4_g64_sym", "0.5")]
    public void JointCodes_AreWhatRoundToNearestFindsAgain_ZerosStayZero_AndTheOutputErrorIsSmaller(string formatName, string sparsity)
    {
        Assert.True(TensorTypeExtensions.TryParse(formatName, out var type));
        var format = TensorFormats.Of(type);
        var pattern = SparsityPattern.Parse(sparsity);
        const int rows = 24, cols = 288, tokens = 600; // 288: a ragged last group for group sizes 64 and 128
        var x = GptqTestSupport.CorrelatedActivations(tokens, cols, seed: 21);
        var w = GptqTestSupport.Gaussian(rows * cols, seed: 22);
        var hessian = GptqTestSupport.Hessian(x);

        var prunedOnly = SparseGptPruner.Prune(w, rows, cols, hessian, pattern).Pruned;
        var joint = SparseGptPruner.Prune(w, rows, cols, hessian, pattern, quantization: format).Pruned;

        // What the rtn pass after it stores: exactly the jointly quantized values, bit for bit.
        Assert.Equal(joint, PackedTensor.QuantizeRtn(format, joint, rows, cols).Dequantize());
        // At least the pattern's zeros (a kept weight may also round to 0).
        for (var r = 0; r < rows; r++)
        {
            var row = joint.AsSpan(r * cols, cols);
            if (pattern.IsSemiStructured)
                for (var g = 0; g < cols; g += 4) Assert.True(row.Slice(g, 4).Count(0f) >= 2, $"row {r}, inputs {g}..{g + 3}");
            else Assert.True(row.Count(0f) >= pattern.PrunedPerRow(cols), $"row {r}");
        }

        // Quantizing inside the sweep beats quantizing the pruned result afterwards.
        var sequential = PackedTensor.QuantizeRtn(format, prunedOnly, rows, cols).Dequantize();
        double errJoint = GptqTestSupport.OutputError(w, joint, rows, cols, x), errSequential = GptqTestSupport.OutputError(w, sequential, rows, cols, x);
        Assert.True(errJoint < errSequential, $"{formatName} {sparsity}: joint {errJoint:G4} vs prune then rtn {errSequential:G4}");
    }

    [Fact]
    public void Option_HandsTheRtnFormatToSparseGpt_AndEntersTheCacheKey()
    {
        var passes = Pipeline("sparsegpt", "rtn-int4", ("Sparsity", "2:4"), ("JointQuantization", "true"), ("GroupSize", "64"));
        var sparseGpt = Assert.IsType<SparseGptPass>(passes[0]);
        Assert.Equal("q4_g64_sym", sparseGpt.JointQuantization?.Name);
        Assert.Contains(new KeyValuePair<string, string>("JointQuantization", "q4_g64_sym"), sparseGpt.Options);

        var int8 = Pipeline("sparsegpt", "rtn-int8", ("Sparsity", "2:4"), ("JointQuantization", "true"));
        Assert.Equal("q8_g32", Assert.IsType<SparseGptPass>(int8[0]).JointQuantization?.Name);
        Assert.Equal("q8_g32_sparse24", Assert.IsType<Sparse24StoragePass>(int8[^1]).Format.Name); // jointly quantized int8 is stored 2:4 compressed

        var off = Pipeline("sparsegpt", "rtn-int4", ("Sparsity", "2:4"), ("JointQuantization", "false"));
        Assert.Null(Assert.IsType<SparseGptPass>(off[0]).JointQuantization);
        Assert.DoesNotContain(off[0].Options, o => o.Key == "JointQuantization");
    }

    [Theory]
    [InlineData("wanda", "rtn-int4", null, "Prune=\"sparsegpt\", not \"wanda\"")]
    [InlineData("magnitude", "rtn-int8", null, "Prune=\"sparsegpt\", not \"magnitude\"")]
    [InlineData("sparsegpt", null, null, "not none")]
    [InlineData("sparsegpt", "gptq-int4", null, "not \"gptq-int4\"")]
    [InlineData("sparsegpt", "f16", null, "not \"f16\"")]
    [InlineData("sparsegpt", "rtn-int4", "Symmetric", "Symmetric=\"false\"")]
    [InlineData("sparsegpt", "rtn-int8", "QuantizeClassifier", "QuantizeClassifier=\"false\" keeps it fp32")]
    public void BadCombinations_AreMsdk1023(string prune, string? quantize, string? extra, string expected)
    {
        (string, string)[] options = extra switch
        {
            "Symmetric" => [("Symmetric", "false")],
            "QuantizeClassifier" => [("QuantizeClassifier", "false"), ("PruneClassifier", "true")],
            _ => [],
        };
        var e = Assert.Throws<ModelSdkException>(() => Pipeline(prune, quantize, [("Sparsity", "2:4"), ("JointQuantization", "true"), .. options]));
        Assert.Equal(DiagnosticCodes.JointQuantizationUnsupported, e.Code);
        Assert.Equal("MSDK1023", e.Code.Id);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ABadValue_IsMsdk1012()
    {
        var e = Assert.Throws<ModelSdkException>(() => Pipeline("sparsegpt", "rtn-int4", ("JointQuantization", "maybe")));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, e.Code);
    }
}
