using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Group parameters chosen for the layer's output rather than the weights' own error: per row and group, the parameters
/// (scale, and min for the asymmetric grid) whose rounded group w̃ gives the least (w − w̃)ᵀ H_gg (w − w̃), where H_gg is
/// the group's diagonal block of the input's Gram matrix H = XᵀX / n. Candidates: the format's own rule on ranges narrowed
/// in steps of <see cref="Step"/> — at each end independently for the asymmetric grid (llm-awq's clipping is the
/// symmetric special case), the scale shrunk for the symmetric one — then the best is refined by alternating encoding
/// with the H-weighted least-squares fit of the parameters to the codes. Never worse (on that objective) than
/// round-to-nearest, which is the first candidate.
/// </summary>
public static class OutputWeightedGroupFit
{
    /// <summary>The fraction of a group's range (asymmetric) or scale (symmetric) each candidate narrows it by.</summary>
    public const float Step = 0.025f;

    /// <summary>Candidates per end: narrowing by 0 .. <see cref="Steps"/> · <see cref="Step"/>.</summary>
    public const int Steps = 12;

    private const int Refinements = 2;

    /// <summary>Quantizes a row-major [rows, cols] matrix, rows in parallel, with <paramref name="h"/> the cols × cols Gram matrix of its input.</summary>
    public static PackedTensor Quantize(TensorFormat format, float[] weight, int rows, int cols, double[] h)
    {
        if (weight.Length != (long)rows * cols) throw new ArgumentException($"{weight.Length} values do not make a [{rows}, {cols}] matrix.", nameof(weight));
        if (h.Length != (long)cols * cols) throw new ArgumentException($"The Gram matrix must be {cols} × {cols}.", nameof(h));
        var packed = new PackedTensor(format, rows, cols);
        var g = packed.Layout.GroupSize;
        Parallel.For(0, rows, () => new Buffers(g), (r, _, b) =>
        {
            for (var group = 0; group < packed.GroupsPerRow; group++)
            {
                var length = packed.GroupLength(group);
                var first = group * g;
                var block = b.Block.AsSpan(0, length * length);
                for (var i = 0; i < length; i++) h.AsSpan((first + i) * cols + first, length).CopyTo(block.Slice(i * length, length));
                var p = Fit(format, weight.AsSpan(r * cols + first, length), block, b);
                var codes = b.Codes.AsSpan(0, length);
                for (var i = 0; i < length; i++) codes[i] = GroupQuantizer.Encode(format, weight[r * cols + first + i], p);
                packed.SetGroup(r, group, codes, p);
            }
            return b;
        }, _ => { });
        return packed;
    }

    /// <summary>The stored parameters of least H-weighted error for one group (<paramref name="h"/>: its length × length block).</summary>
    public static GroupParams Fit(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<double> h)
        => Fit(format, group, h, new Buffers(group.Length));

    private static GroupParams Fit(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<double> h, Buffers b)
    {
        var rule = GroupQuantizer.FindParams(format, group);
        if (rule.Scale == 0) return rule;
        var best = rule;
        var bestError = Error(format, group, h, best, b);
        var asymmetric = format.Scheme == QuantScheme.Asymmetric;
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in group)
        {
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }
        var range = hi - lo;
        for (var low = 0; low <= Steps; low++)
            for (var high = asymmetric ? 0 : low; high <= (asymmetric ? Steps : low); high++)
            {
                if (low == 0 && high == 0) continue;
                var p = asymmetric
                    ? new GroupParams((range - (low + high) * Step * range) / 15f, lo + low * Step * range).Rounded()
                    : new GroupParams(rule.Scale * (1 - low * Step)).Rounded();
                if (p.Scale == 0) continue;
                var error = Error(format, group, h, p, b);
                if (error < bestError) (bestError, best) = (error, p);
            }
        var current = best;
        for (var iteration = 0; iteration < Refinements; iteration++)
        {
            for (var i = 0; i < group.Length; i++) b.Codes[i] = GroupQuantizer.Encode(format, group[i], current);
            if (LeastSquares(format, group, h, b.Codes.AsSpan(0, group.Length)) is not { } fitted) break;
            var error = Error(format, group, h, fitted, b);
            if (error < bestError) (bestError, best) = (error, fitted);
            current = fitted;
        }
        return best;
    }

    /// <summary>(w − w̃)ᵀ H (w − w̃) for the group rounded with <paramref name="p"/>.</summary>
    private static double Error(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<double> h, GroupParams p, Buffers b)
    {
        var n = group.Length;
        var d = b.Difference.AsSpan(0, n);
        for (var i = 0; i < n; i++) d[i] = group[i] - GroupQuantizer.Decode(format, GroupQuantizer.Encode(format, group[i], p), p);
        double error = 0;
        for (var i = 0; i < n; i++)
        {
            if (d[i] == 0) continue;
            error += d[i] * LinearAlgebra.Cholesky.Dot(h.Slice(i * n, n), d);
        }
        return error;
    }

    /// <summary>
    /// The parameters minimizing (w − (s·c + m))ᵀ H (w − (s·c + m)) for fixed codes c (symmetric: m = 0, c centred on the
    /// zero code); null when degenerate.
    /// </summary>
    private static GroupParams? LeastSquares(TensorFormat format, ReadOnlySpan<float> group, ReadOnlySpan<double> h, ReadOnlySpan<int> codes)
    {
        var n = group.Length;
        var asymmetric = format.Scheme == QuantScheme.Asymmetric;
        // Normal equations with u = c (codes, centred for the symmetric grid) and 1: [uᵀHu uᵀH1; 1ᵀHu 1ᵀH1] [s; m] = [uᵀHw; 1ᵀHw].
        double uu = 0, u1 = 0, one = 0, uw = 0, w1 = 0;
        for (var i = 0; i < n; i++)
        {
            double ui = asymmetric ? codes[i] : codes[i] - format.ZeroCode;
            var row = h.Slice(i * n, n);
            for (var j = 0; j < n; j++)
            {
                double uj = asymmetric ? codes[j] : codes[j] - format.ZeroCode;
                var hij = row[j];
                uu += ui * hij * uj;
                u1 += ui * hij;
                one += hij;
                uw += ui * hij * group[j];
                w1 += hij * group[j];
            }
        }
        if (!asymmetric) return uu > 0 ? new GroupParams((float)(uw / uu)).Rounded() : null;
        var det = uu * one - u1 * u1;
        if (!(det > 1e-12 * Math.Max(uu * one, double.Epsilon))) return null;
        var scale = (uw * one - u1 * w1) / det;
        var min = (uu * w1 - u1 * uw) / det;
        return scale > 0 ? new GroupParams((float)scale, (float)min).Rounded() : null;
    }

    private sealed class Buffers(int groupSize)
    {
        public readonly double[] Block = new double[groupSize * groupSize];
        public readonly int[] Codes = new int[groupSize];
        public readonly double[] Difference = new double[groupSize];
    }
}
