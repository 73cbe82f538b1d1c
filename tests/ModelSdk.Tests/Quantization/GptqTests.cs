using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Quantization;

/// <summary>GPTQ on one matrix (<see cref="GptqQuantizer"/>) and over a whole model (<see cref="GptqPass"/>).</summary>
public sealed class GptqTests
{
    private const int Rows = 48, Cols = 128, Tokens = 1024;

    public static TheoryData<string> Formats() => new() { "q4_g32_sym", "q4_g32_asym", "q4_g64_sym", "q4_g128_asym", "q8_g32" };

    private static TensorFormat Format(string name) => TensorFormats.All.Single(f => f.Name == name);

    [Theory]
    [MemberData(nameof(Formats))]
    public void OnCorrelatedInputs_OutputErrorIsWellBelowRoundToNearest(string formatName)
    {
        var format = Format(formatName);
        var w = GptqTestSupport.Gaussian(Rows * Cols, 1, 0.1);
        var x = GptqTestSupport.CorrelatedActivations(Tokens, Cols, 2);
        var h = GptqTestSupport.Hessian(x);
        var rtn = PackedTensor.QuantizeRtn(format, w, Rows, Cols).Dequantize();
        var rtnError = GptqTestSupport.OutputError(w, rtn, Rows, Cols, x);
        foreach (var actOrder in new[] { false, true })
        {
            var gptq = GptqQuantizer.Quantize(w, Rows, Cols, h, format, new GptqSettings(ActOrder: actOrder));
            var error = GptqTestSupport.OutputError(w, gptq.Dequantized, Rows, Cols, x);
            Assert.True(error < 0.75 * rtnError, $"{format.Name}, act-order {actOrder}: GPTQ ‖WX − QX‖² {error:g4} vs RTN {rtnError:g4}");
            // GPTQ's own loss estimate is the same quantity, Σ ‖(W − Q) x‖² / n (with H = 2XXᵀ/n and the OBS step), up to dampening.
            Assert.InRange(gptq.Error / (error / Tokens), 0.5, 2.0);
        }
    }

    [Fact]
    public void Dequantized_IsExactlyWhatThePackedTensorDecodesTo()
    {
        var format = Format("q4_g32_asym");
        var w = GptqTestSupport.Gaussian(Rows * Cols, 3, 0.05);
        var h = GptqTestSupport.Hessian(GptqTestSupport.CorrelatedActivations(256, Cols, 4));
        var result = GptqQuantizer.Quantize(w, Rows, Cols, h, format, new GptqSettings(ActOrder: true));
        Assert.Equal(result.Packed.Dequantize(), result.Dequantized);
        Assert.Equal(Rows, result.Packed.Rows);
        Assert.Equal(Cols, result.Packed.Cols);
    }

    [Fact]
    public void SameInputs_GiveTheSameBytes_WhateverTheThreadCount()
    {
        var format = Format("q4_g32_sym");
        var w = GptqTestSupport.Gaussian(Rows * Cols, 5, 0.1);
        var h = GptqTestSupport.Hessian(GptqTestSupport.CorrelatedActivations(512, Cols, 6));
        var one = GptqQuantizer.Quantize(w, Rows, Cols, h, format, new GptqSettings(ActOrder: true, Threads: 1));
        var two = GptqQuantizer.Quantize(w, Rows, Cols, h, format, new GptqSettings(ActOrder: true, Threads: 2));
        var again = GptqQuantizer.Quantize(w, Rows, Cols, h, format, new GptqSettings(ActOrder: true, Threads: 2));
        Assert.Equal(one.Packed.Data, two.Packed.Data);
        Assert.Equal(two.Packed.Data, again.Packed.Data);
        Assert.Equal(one.Error, two.Error);
    }

    [Fact]
    public void DeadInputChannels_AreRoundedToNearest_AndNothingBreaks()
    {
        var format = Format("q4_g32_sym");
        var x = GptqTestSupport.CorrelatedActivations(512, Cols, 8);
        foreach (var dead in new[] { 3, 70, 127 })
            for (var t = 0; t < x.Tokens; t++) x.Data[t * Cols + dead] = 0;
        var w = GptqTestSupport.Gaussian(Rows * Cols, 9, 0.1);
        var result = GptqQuantizer.Quantize(w, Rows, Cols, GptqTestSupport.Hessian(x), format);
        Assert.Equal(3, result.DeadColumns);
        Assert.All(result.Dequantized, v => Assert.True(float.IsFinite(v)));
        var rtn = PackedTensor.QuantizeRtn(format, w, Rows, Cols).Dequantize();
        Assert.True(GptqTestSupport.OutputError(w, result.Dequantized, Rows, Cols, x) < GptqTestSupport.OutputError(w, rtn, Rows, Cols, x));
    }

    [Theory]
    [InlineData("q4_g64_sym")]
    [InlineData("q4_g128_asym")]
    [InlineData("q8_g64")]
    public void RowsThatTheGroupSizeDoesNotDivide_EndInAShorterGroup(string formatName)
    {
        // 160 = 2·64 + 32 = 128 + 32, as stories15M's 288 with groups of 64 or 128.
        const int cols = 160;
        var format = Format(formatName);
        var w = GptqTestSupport.Gaussian(Rows * cols, 21, 0.1);
        var x = GptqTestSupport.CorrelatedActivations(Tokens, cols, 22);
        var result = GptqQuantizer.Quantize(w, Rows, cols, GptqTestSupport.Hessian(x), format);
        Assert.Equal(result.Packed.Dequantize(), result.Dequantized);
        var rtn = PackedTensor.QuantizeRtn(format, w, Rows, cols).Dequantize();
        Assert.True(GptqTestSupport.OutputError(w, result.Dequantized, Rows, cols, x) < 0.75 * GptqTestSupport.OutputError(w, rtn, Rows, cols, x));
        // The last 32 columns are quantized too, not left at zero.
        Assert.True(result.Dequantized.Where((_, i) => i % cols >= cols - 32).Count(v => v != 0) > Rows * 16);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        var format = Format("q4_g32_sym");
        var h = new double[Cols * Cols];
        for (var i = 0; i < Cols; i++) h[i * Cols + i] = 1;
        Assert.Throws<ArgumentException>(() => GptqQuantizer.Quantize(new float[10], Rows, Cols, h, format));
        Assert.Throws<ArgumentException>(() => GptqQuantizer.Quantize(new float[Rows * Cols], Rows, Cols, new double[5], format));
        Assert.Throws<ArgumentException>(() => GptqQuantizer.Quantize(new float[Rows * 40], Rows, 40, new double[1600], format)); // 32 does not divide 40
        Assert.Throws<ArgumentException>(() => GptqQuantizer.Quantize(new float[Rows * Cols], Rows, Cols, h, TensorFormats.Of(TensorType.F32)));
    }

    [Fact]
    public void Pass_QuantizesEveryMatrix_Deterministically_AndReportsProgress()
    {
        var config = GptqTestSupport.Tiny;
        var sequences = GptqTestSupport.RandomSequences(config, 6, 1);
        byte[][] Run(List<string> log)
        {
            using var model = GptqTestSupport.RandomModel(config, 11);
            var pass = (GptqPass)Registered("gptq-int4", new PassOptions([new("GroupSize", "32"), new("Symmetric", "false")]));
            pass.Validate(config);
            pass.Run(model, GptqTestSupport.Context(sequences, log));
            foreach (var name in model.LayerMatrices.Concat(model.VocabularyMatrices))
                Assert.Equal(TensorType.Q4G32Asym, model[name].Type);
            Assert.Equal(TensorType.F32, model[TensorNames.FinalNorm].Type);
            return model.LayerMatrices.Concat(model.VocabularyMatrices).Select(n => model[n].Packed!.Data).ToArray();
        }
        var log = new List<string>();
        var first = Run(log);
        var second = Run([]);
        Assert.Equal(first, second);
        Assert.Contains(log, m => m.Contains("gptq-int4: 100%", StringComparison.Ordinal));
        Assert.Contains(log, m => m.Contains("layer 2/2", StringComparison.Ordinal));
    }

    [Fact]
    public void Pass_BeatsRoundToNearest_OnTheModelsOwnOutput()
    {
        // On a random model and random tokens, GPTQ (fitted on other sequences) must still give logits closer to fp32's than RTN.
        var config = GptqTestSupport.Tiny;
        var calibration = GptqTestSupport.RandomSequences(config, 16, 2);
        var test = GptqTestSupport.RandomSequences(config, 8, 3);
        using var reference = GptqTestSupport.RandomModel(config, 12);
        using var gptq = GptqTestSupport.RandomModel(config, 12);
        using var rtn = GptqTestSupport.RandomModel(config, 12);
        Registered("gptq-int4", new PassOptions([new("GroupSize", "32")])).Run(gptq, GptqTestSupport.Context(calibration));
        new RtnInt4Pass(32, symmetric: true, quantizeClassifier: true).Run(rtn, GptqTestSupport.Context(calibration));
        var expected = GptqModelOutput.Logits(reference, test);
        var gptqError = GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(gptq, test));
        var rtnError = GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(rtn, test));
        Assert.True(gptqError < 0.8 * rtnError, $"GPTQ {gptqError:g4} vs RTN {rtnError:g4}");
    }

    [Fact]
    public void Int8_IsCloserThanInt4()
    {
        var config = GptqTestSupport.Tiny;
        var calibration = GptqTestSupport.RandomSequences(config, 8, 4);
        var test = GptqTestSupport.RandomSequences(config, 4, 5);
        using var reference = GptqTestSupport.RandomModel(config, 13);
        using var int8 = GptqTestSupport.RandomModel(config, 13);
        using var int4 = GptqTestSupport.RandomModel(config, 13);
        Registered("gptq-int8", PassOptions.Empty).Run(int8, GptqTestSupport.Context(calibration));
        Registered("gptq-int4", PassOptions.Empty).Run(int4, GptqTestSupport.Context(calibration));
        Assert.Equal(TensorType.Q8G32, int8[TensorNames.W2(1)].Type);
        var expected = GptqModelOutput.Logits(reference, test);
        Assert.True(GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(int8, test))
            < 0.05 * GptqModelOutput.SquaredDifference(expected, GptqModelOutput.Logits(int4, test)));
    }

    /// <summary>The pass as a user gets it: through the registry, from its name and options.</summary>
    internal static IModelPass Registered(string name, PassOptions options) => Assert.Single(PassRegistry.Create(name, options));
}
