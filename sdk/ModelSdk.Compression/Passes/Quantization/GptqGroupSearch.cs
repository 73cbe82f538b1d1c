using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Group parameters by search: the format's own rule (<see cref="GroupQuantizer.FindParams"/>), and that range shrunk
/// by factors 1 − maxShrink · k / grid (k = 1..grid), keeping the candidate with the least importance-weighted squared
/// error Σ hᵢ (wᵢ − q(wᵢ))² — GPTQ's reference <c>mse</c> option, weighted by the Hessian's diagonal. Candidates are
/// rounded to fp16 and scored with the format's encoder and decoder, so the winner is exactly what is stored.
/// </summary>
public static class GptqGroupSearch
{
    public static GroupParams Find(TensorFormat format, ReadOnlySpan<float> values, ReadOnlySpan<double> importance, int grid, double maxShrink)
    {
        var basic = GroupQuantizer.FindParams(format, values);
        if (grid <= 0) return basic;
        var best = basic;
        var bestError = Error(format, values, importance, basic);
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in values)
        {
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }
        for (var k = 1; k <= grid; k++)
        {
            var shrink = (float)(1 - maxShrink * k / grid);
            var candidate = format.Scheme == QuantScheme.Asymmetric
                ? new GroupParams((hi - lo) * shrink / (format.MaxCode - format.MinCode), lo * shrink).Rounded()
                : new GroupParams(basic.Scale * shrink).Rounded();
            var error = Error(format, values, importance, candidate);
            if (error < bestError)
            {
                bestError = error;
                best = candidate;
            }
        }
        return best;
    }

    private static double Error(TensorFormat format, ReadOnlySpan<float> values, ReadOnlySpan<double> importance, GroupParams p)
    {
        double error = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var d = values[i] - GroupQuantizer.Decode(format, GroupQuantizer.Encode(format, values[i], p), p);
            error += importance[i] * d * d;
        }
        return error;
    }
}
