using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Quantization;

/// <summary><see cref="OutputWeightedGroupFit"/>: group parameters chosen on the output error the input's Gram matrix measures.</summary>
public sealed class OutputWeightedGroupFitTests
{
    [Theory]
    [InlineData(true, 32)]
    [InlineData(false, 32)]
    [InlineData(true, 64)] // 96 columns: the row's last group holds 32 values
    [InlineData(false, 64)]
    public void Quantize_NeverLosesToRoundToNearest_OnTheOutput_AndUsuallyWinsClearly(bool symmetric, int groupSize)
    {
        const int rows = 48, cols = 96;
        var format = TensorFormats.Find(4, groupSize, symmetric ? QuantScheme.Symmetric : QuantScheme.Asymmetric)!;
        var w = GptqTestSupport.Gaussian(rows * cols, 51, 0.05);
        var x = GptqTestSupport.CorrelatedActivations(512, cols, 52);
        var h = GptqTestSupport.Hessian(x);

        var fitted = OutputWeightedGroupFit.Quantize(format, w, rows, cols, h);
        var rtn = PackedTensor.QuantizeRtn(format, w, rows, cols);
        Assert.Equal(format, fitted.Format);
        var fittedError = AwqSearch.OutputError(w, fitted.Dequantize(), rows, cols, h);
        var rtnError = AwqSearch.OutputError(w, rtn.Dequantize(), rows, cols, h);
        Assert.True(fittedError < 0.9 * rtnError, $"fitted {fittedError:g4} vs RTN {rtnError:g4}");

        // Group by group, the chosen parameters are never worse than the format's own rule on the weighted objective.
        var g = format.GroupSize;
        for (var r = 0; r < rows; r++)
            for (var group = 0; group < fitted.GroupsPerRow; group++)
            {
                var length = fitted.GroupLength(group);
                var block = Block(h, cols, group * g, length);
                var values = w.AsSpan(r * cols + group * g, length);
                var own = GroupError(format, values, block, GroupQuantizer.FindParams(format, values));
                var chosen = GroupError(format, values, block, fitted.GetParams(r, group));
                Assert.True(chosen <= own * (1 + 1e-9) + 1e-18, $"row {r} group {group}: {chosen:g6} > {own:g6}");
            }
    }

    [Fact]
    public void Fit_FollowsTheWeights_ThatTheInputMakesCount()
    {
        // A group where one input channel carries almost all the energy: the fit must represent that weight far better
        // than the plain least-squares fit of the weights (which treats every value alike) does.
        var format = TensorFormats.Find(4, 32, QuantScheme.Asymmetric)!;
        var values = GptqTestSupport.Gaussian(32, 61, 1);
        var h = new double[32 * 32];
        for (var i = 0; i < 32; i++) h[i * 32 + i] = i == 5 ? 1000 : 1e-3;
        var weighted = OutputWeightedGroupFit.Fit(format, values, h);
        var plain = GroupQuantizer.FitParams(format, values);
        Assert.True(GroupError(format, values, h, weighted) < GroupError(format, values, h, plain),
            $"weighted {GroupError(format, values, h, weighted):g4} vs plain {GroupError(format, values, h, plain):g4}");
        var code = GroupQuantizer.Encode(format, values[5], weighted);
        Assert.True(MathF.Abs(values[5] - GroupQuantizer.Decode(format, code, weighted)) < 0.02f * (values.Max() - values.Min()));
    }

    private static double[] Block(double[] h, int cols, int first, int length)
    {
        var block = new double[length * length];
        for (var i = 0; i < length; i++)
            for (var j = 0; j < length; j++) block[i * length + j] = h[(first + i) * cols + first + j];
        return block;
    }

    private static double GroupError(TensorFormat format, ReadOnlySpan<float> values, double[] h, GroupParams p)
    {
        var n = values.Length;
        var d = new double[n];
        for (var i = 0; i < n; i++) d[i] = values[i] - GroupQuantizer.Decode(format, GroupQuantizer.Encode(format, values[i], p), p);
        double error = 0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) error += d[i] * h[i * n + j] * d[j];
        return error;
    }
}
