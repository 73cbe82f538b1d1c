using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Quantization;

/// <summary>AWQ's search and folding (<see cref="AwqSearch"/>) and the whole pass (<see cref="AwqPass"/>).</summary>
public sealed class AwqTests
{
    /// <summary>Positive scales spanning two decades, deterministic.</summary>
    private static double[] RandomScales(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Math.Pow(10, random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(4, 4)] // multi-head
    [InlineData(4, 2)] // grouped-query: wo's scales are tied across the query heads of a kv head
    [InlineData(4, 1)] // multi-query
    public void FoldingScales_PreservesTheFp32Function(int heads, int kvHeads)
    {
        var config = GptqTestSupport.Tiny with { Heads = heads, KvHeads = kvHeads };
        using var model = GptqTestSupport.RandomModel(config, 21);
        var sequences = GptqTestSupport.RandomSequences(config, 3, 22);
        var forward = new CalibrationForward(config, sequences);
        var weights = LlamaLayerWeights.Load(model, 0);
        var scaled = weights.Clone();
        AwqSearch.ApplyScales(config, scaled, RandomScales(config.Dim, 1), ChannelScaleFolding.TieAcrossKvGroups(RandomScales(config.Dim, 2), config),
            RandomScales(config.Dim, 3), RandomScales(config.HiddenDim, 4));
        Assert.NotEqual(weights.Wv, scaled.Wv);

        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        var expected = x.Clone();
        forward.Layer(expected, weights);
        var actual = x.Clone();
        forward.Layer(actual, scaled);
        var nmse = Nmse(actual.Data, expected.Data);
        Assert.True(nmse < 1e-11, $"NMSE {nmse}");
    }

    [Fact]
    public void TiedScales_AreEqualAcrossTheHeadsOfAKvGroup_AndGiveWvItsRows()
    {
        var config = GptqTestSupport.Tiny with { Heads = 4, KvHeads = 2 }; // head size 16
        var raw = RandomScales(config.Dim, 5);
        var tied = ChannelScaleFolding.TieAcrossKvGroups(raw, config);
        for (var d = 0; d < 16; d++)
        {
            Assert.Equal(tied[d], tied[16 + d]); // heads 0 and 1 share kv head 0
            Assert.Equal(tied[32 + d], tied[48 + d]);
            Assert.Equal((raw[d] + raw[16 + d]) / 2, tied[d], 12);
        }
        var rows = ChannelScaleFolding.KvRowScales(tied, config);
        Assert.Equal(config.KvDim, rows.Length);
        Assert.Equal(tied[32 + 3], rows[16 + 3]);
    }

    [Fact]
    public void Scales_AreNormalizedAroundOne_AndAlphaZeroIsNoScaling()
    {
        double[] meanAbs = [0.01, 0.1, 1, 10];
        Assert.All(AwqSearch.Scales(meanAbs, 0), s => Assert.Equal(1, s, 12));
        var half = AwqSearch.Scales(meanAbs, 0.5);
        Assert.Equal(1, half.Max() * half.Min(), 12);
        Assert.True(half[3] > half[0]);
    }

    [Fact]
    public void DuoScales_FavourChannelsWithSmallWeights_AndAlphaOneIsPlainAwq()
    {
        double[] meanAbs = [0.5, 1, 2, 4];
        double[] salience = [0.2, 0.8, 0.4, 0.6];
        var zero = AwqSearch.DuoScales(meanAbs, salience, 0);
        Assert.Equal(1, zero.Max() * zero.Min(), 12);
        Assert.True(zero[0] > zero[2] && zero[2] > zero[3] && zero[3] > zero[1]); // ∝ 1 / salience
        var one = AwqSearch.DuoScales(meanAbs, salience, 1);
        var plain = AwqSearch.Scales(meanAbs, 1);
        for (var i = 0; i < 4; i++) Assert.Equal(plain[i], one[i], 9);
    }

    [Fact]
    public void WeightSalience_IsTheMeanMagnitudeRelativeToEachGroupsMaximum_OverAllReaders()
    {
        // Two matrices reading 4 channels in groups of 2.
        float[] a = [1, -0.5f, 0.25f, 2, /**/ -4, 2, 1, 1];
        float[] b = [0.5f, 0.5f, -3, 0];
        var salience = AwqSearch.WeightSalience(4, 2, (a, 2), (b, 1));
        Assert.Equal((1 + 1 + 1) / 3.0, salience[0], 5);
        Assert.Equal((0.5 + 0.5 + 1) / 3.0, salience[1], 5);
        Assert.Equal((0.125 + 1 + 1) / 3.0, salience[2], 5);
        Assert.Equal((1 + 1 + 0) / 3.0, salience[3], 5);
    }

    [Fact]
    public void SearchedScalesAndFittedGroups_LowerTheOutputError()
    {
        // One linear with outlier input channels: AWQ's scaled rounding must beat plain RTN on the output.
        const int rows = 64, cols = 128;
        var format = TensorFormats.Find(4, 32, QuantScheme.Asymmetric)!;
        var w = GptqTestSupport.Gaussian(rows * cols, 31, 0.05);
        var x = GptqTestSupport.CorrelatedActivations(1024, cols, 32);
        var h = GptqTestSupport.Hessian(x);
        for (var i = 0; i < h.Length; i++) h[i] /= 2; // XᵀX / n
        var meanAbs = new double[cols];
        for (var t = 0; t < x.Tokens; t++)
            for (var c = 0; c < cols; c++) meanAbs[c] += Math.Abs(x.Data[t * cols + c]) / x.Tokens;

        var search = AwqSearch.SearchAlpha(meanAbs, 20, s => AwqSearch.OutputError(w, AwqSearch.ScaledFakeQuantize(format, w, rows, cols, s), rows, cols, h));
        Assert.True(search.Loss < 0.9 * search.BaseLoss, $"best α {search.Alpha}: {search.Loss:g4} vs α = 0: {search.BaseLoss:g4}");
        Assert.Equal(search.BaseLoss, AwqSearch.OutputError(w, AwqSearch.FakeQuantize(format, w, rows, cols), rows, cols, h), 9);

        // The fitted group parameters of the scaled matrix, on the inputs it sees (x / s), must beat its rounding to nearest.
        var scaled = (float[])w.Clone();
        ChannelScaleFolding.ScaleColumns(scaled, rows, cols, search.Scales);
        var unscaledH = new double[h.Length];
        for (var i = 0; i < cols; i++)
            for (var j = 0; j < cols; j++) unscaledH[i * cols + j] = h[i * cols + j] / (search.Scales[i] * search.Scales[j]);
        var fitted = OutputWeightedGroupFit.Quantize(format, scaled, rows, cols, unscaledH).Dequantize();
        var withFit = AwqSearch.OutputError(scaled, fitted, rows, cols, unscaledH);
        var withoutFit = AwqSearch.OutputError(scaled, AwqSearch.FakeQuantize(format, scaled, rows, cols), rows, cols, unscaledH);
        Assert.True(withFit < withoutFit, $"fitted {withFit:g4} vs rounded {withoutFit:g4}");
    }

    [Fact]
    public void FakeQuantize_IsRoundToNearest_IncludingAShorterLastGroup()
    {
        // 96 = 64 + 32: the row's last group holds 32 values, as stories15M's 288 with GroupSize 64.
        var format = TensorFormats.Find(4, 64, QuantScheme.Symmetric)!;
        var w = GptqTestSupport.Gaussian(8 * 96, 31, 0.1);
        Assert.Equal(PackedTensor.QuantizeRtn(format, w, 8, 96).Dequantize(), AwqSearch.FakeQuantize(format, w, 8, 96));
    }

    [Theory]
    [InlineData("true", "false")]
    [InlineData("false", "false")] // round-to-nearest after scaling and output matching
    [InlineData("true", "true")]
    public void Pass_QuantizesEveryMatrix_Deterministically_AndBeatsRoundToNearest(string clip, string duoScaling)
    {
        var config = GptqTestSupport.Tiny;
        var calibration = GptqTestSupport.RandomSequences(config, 12, 41);
        var test = GptqTestSupport.RandomSequences(config, 6, 42);
        var options = new PassOptions([new("GroupSize", "32"), new("Symmetric", "false"), new("Clip", clip), new("DuoScaling", duoScaling)]);
        using var reference = GptqTestSupport.RandomModel(config, 43);
        using var awq = GptqTestSupport.RandomModel(config, 43);
        using var again = GptqTestSupport.RandomModel(config, 43);
        using var rtn = GptqTestSupport.RandomModel(config, 43);
        var log = new List<string>();
        GptqTests.Registered("awq-int4", options).Run(awq, GptqTestSupport.Context(calibration, log));
        GptqTests.Registered("awq-int4", options).Run(again, GptqTestSupport.Context(calibration));
        new RtnInt4Pass(32, symmetric: false, quantizeClassifier: true).Run(rtn, GptqTestSupport.Context(calibration));

        foreach (var name in awq.LayerMatrices.Concat(awq.VocabularyMatrices))
        {
            Assert.Equal(TensorType.Q4G32Asym, awq[name].Type);
            Assert.Equal(awq[name].Packed!.Data, again[name].Packed!.Data);
        }
        Assert.Equal(awq.GetFloats(TensorNames.AttentionNorm(1)), again.GetFloats(TensorNames.AttentionNorm(1)));
        Assert.Contains(log, m => m.Contains("awq-int4: 100%", StringComparison.Ordinal));

        var expected = GptqModelOutput.Logits(reference, test);
        var awqError = GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(awq, test));
        var rtnError = GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(rtn, test));
        Assert.True(awqError < rtnError, $"AWQ {awqError:g4} vs RTN {rtnError:g4}");
    }

    private static double Nmse(float[] actual, float[] expected)
    {
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            error += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return error / norm;
    }
}
