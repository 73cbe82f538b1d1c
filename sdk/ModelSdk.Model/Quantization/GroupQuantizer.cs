using ModelSdk.Tensors;

namespace ModelSdk.Quantization;

/// <summary>The parameters of one group as stored: fp16 values widened to float (so decoding here equals decoding in a kernel).</summary>
public readonly record struct GroupParams(float Scale, float Min = 0f)
{
    /// <summary>Both values rounded to fp16, as they will be stored.</summary>
    public GroupParams Rounded() => new(HalfBits.Round(Scale), HalfBits.Round(Min));
}

/// <summary>
/// Per-group quantization for every packed type of the traits table: finding a group's parameters, value → code,
/// code → value. RTN uses <see cref="QuantizeGroup"/> (ggml's reference rules, bit-exact); GPTQ-style passes that
/// quantize column by column with error feedback use <see cref="FindParams"/> once per group, then
/// <see cref="Encode"/>/<see cref="Decode"/> per value — <see cref="Decode"/> is exactly what the kernels compute.
/// <list type="bullet">
/// <item>int8 symmetric (ggml Q8_0): scale = max|x| / 127, code = round(x / scale) (half away from zero) in −127..127;
/// the per-row type (q8_row) is the same rule with the whole row as the group.</item>
/// <item>int4 symmetric (ggml Q4_0): m = the value of largest magnitude, scale = m / −8, code = min(15, ⌊x / scale + 8.5⌋);
/// value = (code − 8) · scale. The largest magnitude lands exactly on code 0.</item>
/// <item>int4 asymmetric (ggml Q4_1): scale = (max − min) / 15, code = min(15, ⌊(x − min) / scale + 0.5⌋); value = code · scale + min.</item>
/// </list>
/// </summary>
public static class GroupQuantizer
{
    /// <summary>Parameters of a group by the format's rule, rounded to fp16 as stored.</summary>
    public static GroupParams FindParams(TensorFormat format, ReadOnlySpan<float> group)
    {
        var (scale, min) = RawParams(format, group);
        return new GroupParams(scale, min).Rounded();
    }

    /// <summary>The code nearest to <paramref name="value"/> under stored parameters, clamped to the format's range.</summary>
    public static int Encode(TensorFormat format, float value, GroupParams p)
    {
        if (p.Scale == 0) return format.Scheme == QuantScheme.Asymmetric ? 0 : format.ZeroCode;
        var q = format.Scheme == QuantScheme.Asymmetric
            ? MathF.Round((value - p.Min) / p.Scale)
            : MathF.Round(value / p.Scale) + format.ZeroCode;
        return (int)Math.Clamp(q, format.MinCode, format.MaxCode);
    }

    /// <summary>The value a code stands for: what every kernel computes.</summary>
    public static float Decode(TensorFormat format, int code, GroupParams p)
        => format.Scheme == QuantScheme.Asymmetric ? code * p.Scale + p.Min : (code - format.ZeroCode) * p.Scale;

    /// <summary>
    /// Round-to-nearest quantization of one group by ggml's reference rules (codes computed with the fp32 inverse scale,
    /// parameters stored as fp16). Returns the stored parameters.
    /// </summary>
    public static GroupParams QuantizeGroup(TensorFormat format, ReadOnlySpan<float> group, Span<int> codes)
    {
        var (scale, min) = RawParams(format, group);
        var inverse = scale != 0 ? 1f / scale : 0f;
        for (var i = 0; i < group.Length; i++)
        {
            codes[i] = format switch
            {
                { Bits: 8 } => (int)MathF.Round(group[i] * inverse, MidpointRounding.AwayFromZero),
                { Scheme: QuantScheme.Symmetric } => Math.Min(15, (int)(group[i] * inverse + 8.5f)),
                _ => Math.Min(15, (int)((group[i] - min) * inverse + 0.5f)),
            };
        }
        return new GroupParams(scale, min).Rounded();
    }

    /// <summary>
    /// Parameters that minimize the group's squared rounding error, as stored (fp16) — for matrices no calibration data
    /// describes, where the plain error is the objective (the embedding). Starting from the format's own rule and from
    /// ranges narrowed in steps of 2.5% at each end (asymmetric) or scales shrunk in steps of 5% (symmetric), it
    /// alternates encoding with the least-squares fit of scale (and min) to the codes, and keeps the best; never worse
    /// than <see cref="FindParams"/>.
    /// </summary>
    public static GroupParams FitParams(TensorFormat format, ReadOnlySpan<float> group)
    {
        var best = FindParams(format, group);
        var bestError = SquaredError(format, group, best);
        if (best.Scale == 0) return best;
        var asymmetric = format.Scheme == QuantScheme.Asymmetric;
        var (scale, min) = RawParams(format, group);
        var range = scale * 15f;
        Span<int> codes = stackalloc int[group.Length];
        for (var low = 0; low <= FitSteps; low++)
            for (var high = 0; high <= FitSteps; high++)
            {
                if (!asymmetric && low != high) continue;
                var p = asymmetric
                    ? new GroupParams((1 - (low + high) * 0.025f) * scale, min + low * 0.025f * range).Rounded()
                    : new GroupParams((1 - low * 0.05f) * scale).Rounded();
                for (var iteration = 0; iteration <= FitIterations && p.Scale != 0; iteration++)
                {
                    for (var i = 0; i < group.Length; i++) codes[i] = Encode(format, group[i], p);
                    var error = SquaredError(format, group, codes, p);
                    if (error < bestError) (bestError, best) = (error, p);
                    if (iteration < FitIterations && LeastSquares(format, group, codes) is { } fitted) p = fitted;
                    else break;
                }
            }
        return best;
    }

    private const int FitSteps = 8;

    private const int FitIterations = 2;

    /// <summary>The scale (and min) that best map <paramref name="codes"/> onto <paramref name="group"/>; null when degenerate.</summary>
    private static GroupParams? LeastSquares(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<int> codes)
    {
        if (format.Scheme == QuantScheme.Asymmetric)
        {
            double n = group.Length, sc = 0, sx = 0, scc = 0, scx = 0;
            for (var i = 0; i < group.Length; i++)
            {
                sc += codes[i];
                sx += group[i];
                scc += (double)codes[i] * codes[i];
                scx += (double)codes[i] * group[i];
            }
            var det = n * scc - sc * sc;
            if (det <= 0) return null;
            var scale = (n * scx - sc * sx) / det;
            return scale > 0 ? new GroupParams((float)scale, (float)((sx - scale * sc) / n)).Rounded() : null;
        }
        double cc = 0, cx = 0;
        for (var i = 0; i < group.Length; i++)
        {
            var c = codes[i] - format.ZeroCode;
            cc += (double)c * c;
            cx += c * (double)group[i];
        }
        return cc > 0 ? new GroupParams((float)(cx / cc)).Rounded() : null;
    }

    private static double SquaredError(TensorFormat format, ReadOnlySpan<float> group, GroupParams p)
    {
        Span<int> codes = stackalloc int[group.Length];
        for (var i = 0; i < group.Length; i++) codes[i] = Encode(format, group[i], p);
        return SquaredError(format, group, codes, p);
    }

    private static double SquaredError(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<int> codes, GroupParams p)
    {
        double error = 0;
        for (var i = 0; i < group.Length; i++)
        {
            var d = group[i] - Decode(format, codes[i], p);
            error += (double)d * d;
        }
        return error;
    }

    private static (float Scale, float Min) RawParams(TensorFormat format, ReadOnlySpan<float> group)
    {
        if (!format.IsPacked) throw new ArgumentException($"{format.Name} is not a quantized type.", nameof(format));
        if (group.Length == 0 || (!format.PerRow && group.Length > format.GroupSize))
            throw new ArgumentException($"A {format.Name} group has 1..{format.GroupSize} values, not {group.Length}.", nameof(group));
        if (format.Scheme == QuantScheme.Asymmetric)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (var v in group)
            {
                lo = MathF.Min(lo, v);
                hi = MathF.Max(hi, v);
            }
            return ((hi - lo) / 15f, lo);
        }
        if (format.Bits == 8)
        {
            float amax = 0;
            foreach (var v in group) amax = MathF.Max(amax, MathF.Abs(v));
            return (amax / 127f, 0f);
        }
        float largest = 0, signed = 0;
        foreach (var v in group)
        {
            if (MathF.Abs(v) > largest)
            {
                largest = MathF.Abs(v);
                signed = v;
            }
        }
        return (signed / -8f, 0f);
    }
}
