using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Quantization;

/// <summary>Least-squares group parameters (<see cref="GroupQuantizer.FitParams"/>) and the vocabulary matrices quantized with them.</summary>
public sealed class FittedGroupParamsTests
{
    public static TheoryData<string> PackedFormats => [.. TensorFormats.All.Where(f => f.IsPacked).Select(f => f.Name)];

    private static TensorFormat Format(string name) => TensorFormats.All.Single(f => f.Name == name);

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void Fitted_IsNeverWorseThanTheFormatsRule_AndBetterOverall(string name)
    {
        var format = Format(name);
        const int rows = 64, cols = 256;
        var w = GptqTestSupport.Gaussian(rows * cols, 21, 0.05);
        for (var i = 0; i < w.Length; i += 97) w[i] *= 6; // outliers, as real weights have
        double rtnTotal = 0, fittedTotal = 0;
        var groupSize = format.GroupSizeFor(cols);
        for (var start = 0; start < w.Length; start += groupSize)
        {
            var group = w.AsSpan(start, groupSize);
            var rtn = SquaredError(format, group, GroupQuantizer.FindParams(format, group));
            var fitted = SquaredError(format, group, GroupQuantizer.FitParams(format, group));
            Assert.True(fitted <= rtn, $"group at {start}: fitted {fitted:g6} > rule {rtn:g6}");
            rtnTotal += rtn;
            fittedTotal += fitted;
        }
        // int4 has few levels, so the range is worth narrowing; int8's 255 levels leave less to gain.
        Assert.True(fittedTotal < (format.Bits == 4 ? 0.95 : 0.995) * rtnTotal, $"{name}: fitted {fittedTotal:g6} vs rule {rtnTotal:g6}");
    }

    [Theory]
    [MemberData(nameof(PackedFormats))]
    public void FittedParams_AreStoredExactly_AndConstantGroupsStayExact(string name)
    {
        var format = Format(name);
        var w = GptqTestSupport.Gaussian(4 * 128, 22, 0.1);
        var packed = PackedTensor.QuantizeFitted(format, w, 4, 128);
        var decoded = packed.Dequantize();
        for (var r = 0; r < 4; r++)
            for (var g = 0; g < packed.GroupsPerRow; g++)
            {
                var p = packed.GetParams(r, g);
                Assert.Equal(p, p.Rounded()); // fp16 as stored
                var first = g * format.GroupSizeFor(128);
                for (var c = first; c < first + packed.GroupLength(g); c++)
                    Assert.Equal(GroupQuantizer.Decode(format, packed.GetCode(r, c), p), decoded[r * 128 + c]);
            }
        var zeros = PackedTensor.QuantizeFitted(format, new float[2 * 64], 2, 64).Dequantize();
        Assert.All(zeros, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Gptq_QuantizesTheEmbeddingFirst_WithFittedParams()
    {
        var config = GptqTestSupport.Tiny;
        var sequences = GptqTestSupport.RandomSequences(config, 4, 7);
        using var model = GptqTestSupport.RandomModel(config, 17);
        using var expected = GptqTestSupport.RandomModel(config, 17);
        var format = TensorFormats.Find(4, 32, QuantScheme.Asymmetric)!;
        var embedding = VocabularyQuantizer.Quantize(expected, format);
        GptqTests.Registered("gptq-int4", new PassOptions([new("Symmetric", "false")])).Run(model, GptqTestSupport.Context(sequences));
        Assert.Equal(expected[TensorNames.TokenEmbedding].Packed!.Data, model[TensorNames.TokenEmbedding].Packed!.Data);
        Assert.Equal(embedding, model.GetFloats(TensorNames.TokenEmbedding));
    }

    private static double SquaredError(TensorFormat format, ReadOnlySpan<float> group, GroupParams p)
    {
        double error = 0;
        foreach (var v in group)
        {
            var d = v - GroupQuantizer.Decode(format, GroupQuantizer.Encode(format, v, p), p);
            error += (double)d * d;
        }
        return error;
    }
}
