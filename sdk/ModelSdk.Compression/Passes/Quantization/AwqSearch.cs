using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>How AWQ searches (see <see cref="AwqSearch"/>).</summary>
/// <param name="Grid">Exponents α = k / Grid, k = 0..Grid−1 (the paper's 20 points over [0, 1)).</param>
/// <param name="SearchSequences">Calibration sequences the attention and MLP blocks are run on for each α (single linears use all tokens, exactly, through XᵀX).</param>
/// <param name="Damping">The output matching's dampening (<see cref="OutputMatching"/>), as GPTQ's default.</param>
public sealed record AwqSettings(int Grid = 20, int SearchSequences = 32, double Damping = 0.01, int? Threads = null);

/// <summary>
/// Activation-aware weight quantization (Lin et al., 2024, "AWQ: Activation-aware Weight Quantization for LLM Compression
/// and Acceleration"), the search part: per-input-channel scales s that make the salient channels (large mean |x|) lose
/// less to rounding, folded into the operation before the linear so the fp32 function is unchanged. The weights stay fp32
/// here (scaled); <see cref="AwqPass"/> quantizes them (llm-awq's per-group clipping search is a special case of
/// <see cref="OutputWeightedGroupFit"/>).
/// </summary>
public static class AwqSearch
{
    /// <summary>Scales for one input: s = s_x^α, normalized by √(max s · min s), s_x = mean |x| per channel.</summary>
    public static double[] Scales(ReadOnlySpan<double> meanAbs, double alpha)
    {
        var s = new double[meanAbs.Length];
        double max = double.NegativeInfinity, min = double.PositiveInfinity;
        for (var i = 0; i < s.Length; i++)
        {
            s[i] = Math.Max(Math.Pow(meanAbs[i], alpha), 1e-4);
            max = Math.Max(max, s[i]);
            min = Math.Min(min, s[i]);
        }
        var norm = Math.Sqrt(max * min);
        for (var i = 0; i < s.Length; i++) s[i] /= norm;
        return s;
    }

    /// <summary>
    /// AutoAWQ's "duo" scales: s = s_x^α / (s_w^(1−α) + 1e-4) (at least 1e-4), normalized by √(max s · min s), s_w being
    /// <see cref="WeightSalience"/>: channels with small weights are scaled up more.
    /// </summary>
    public static double[] DuoScales(ReadOnlySpan<double> meanAbs, ReadOnlySpan<double> weightSalience, double alpha)
    {
        var s = new double[meanAbs.Length];
        double max = double.NegativeInfinity, min = double.PositiveInfinity;
        for (var i = 0; i < s.Length; i++)
        {
            s[i] = Math.Max(Math.Pow(meanAbs[i], alpha) / (Math.Pow(weightSalience[i], 1 - alpha) + 1e-4), 1e-4);
            max = Math.Max(max, s[i]);
            min = Math.Min(min, s[i]);
        }
        var norm = Math.Sqrt(max * min);
        for (var i = 0; i < s.Length; i++) s[i] /= norm;
        return s;
    }

    /// <summary>
    /// Per input channel, the mean over all rows of the given matrices (all reading that input, each [rows, cols]) of
    /// |w| / max |w| of its group: AutoAWQ's weight salience, relative to each group's range.
    /// </summary>
    public static double[] WeightSalience(int cols, int groupSize, params (float[] Weight, int Rows)[] matrices)
    {
        var sum = new double[cols];
        var rows = 0;
        foreach (var (weight, count) in matrices)
        {
            rows += count;
            for (var r = 0; r < count; r++)
                for (var at = 0; at < cols; at += groupSize)
                {
                    var group = weight.AsSpan(r * cols + at, Math.Min(groupSize, cols - at));
                    float max = 0;
                    foreach (var v in group) max = MathF.Max(max, MathF.Abs(v));
                    for (var i = 0; i < group.Length; i++) sum[at + i] += Math.Abs(group[i]) / (max + 1e-6);
                }
        }
        for (var i = 0; i < cols; i++) sum[i] /= Math.Max(1, rows);
        return sum;
    }

    /// <summary>Q(W · diag(s)) · diag(1/s): what the scaled, quantized matrix computes on the unscaled input.</summary>
    public static float[] ScaledFakeQuantize(TensorFormat format, float[] weight, int rows, int cols, ReadOnlySpan<double> scales)
    {
        var scaled = new float[weight.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) scaled[r * cols + c] = (float)(weight[r * cols + c] * scales[c]);
        var q = FakeQuantize(format, scaled, rows, cols);
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) q[r * cols + c] = (float)(q[r * cols + c] / scales[c]);
        return q;
    }

    /// <summary>Round-to-nearest by the format's rule (<see cref="GroupQuantizer.QuantizeGroup"/>), decoded back to fp32.</summary>
    public static float[] FakeQuantize(TensorFormat format, float[] weight, int rows, int cols)
    {
        var g = format.GroupSize;
        var result = new float[weight.Length];
        Parallel.For(0, rows, () => new int[g], (r, _, codes) =>
        {
            for (var at = r * cols; at < (r + 1) * cols; at += g)
            {
                var length = Math.Min(g, (r + 1) * cols - at); // a row's last group is shorter when g does not divide it
                var p = GroupQuantizer.QuantizeGroup(format, weight.AsSpan(at, length), codes);
                for (var k = 0; k < length; k++) result[at + k] = GroupQuantizer.Decode(format, codes[k], p);
            }
            return codes;
        }, _ => { });
        return result;
    }

    /// <summary>‖(A − B) X‖² / n for row-major [rows, cols] A, B and H = XᵀX / n (cols × cols): the mean squared output difference.</summary>
    public static double OutputError(float[] a, float[] b, int rows, int cols, double[] h)
    {
        var total = 0.0;
        var gate = new object();
        Parallel.For(0, rows, () => (new double[cols], 0.0), (r, _, state) =>
        {
            var d = state.Item1;
            for (var c = 0; c < cols; c++) d[c] = (double)a[r * cols + c] - b[r * cols + c];
            double sum = 0;
            for (var i = 0; i < cols; i++)
            {
                if (d[i] == 0) continue;
                sum += d[i] * LinearAlgebra.Cholesky.Dot(h.AsSpan(i * cols, cols), d);
            }
            return (d, state.Item2 + sum);
        }, state => { lock (gate) total += state.Item2; });
        return total;
    }

    /// <summary>
    /// The α (and its scales) minimizing <paramref name="loss"/>(scales) over the grid; ties keep the smaller α.
    /// </summary>
    public static (double Alpha, double[] Scales, double Loss, double BaseLoss) SearchAlpha(ReadOnlySpan<double> meanAbs, int grid, Func<double[], double> loss)
    {
        var salience = meanAbs.ToArray();
        return SearchAlpha(alpha => Scales(salience, alpha), grid, loss);
    }

    /// <summary>The α minimizing <paramref name="loss"/>(<paramref name="scalesFor"/>(α)) over α = k / grid; ties keep the smaller α.</summary>
    public static (double Alpha, double[] Scales, double Loss, double BaseLoss) SearchAlpha(Func<double, double[]> scalesFor, int grid, Func<double[], double> loss)
    {
        double bestAlpha = 0, bestLoss = double.PositiveInfinity, baseLoss = double.NaN;
        double[]? best = null;
        for (var k = 0; k < grid; k++)
        {
            var alpha = k / (double)grid;
            var scales = scalesFor(alpha);
            var value = loss(scales);
            if (k == 0) baseLoss = value;
            if (value < bestLoss)
            {
                bestLoss = value;
                bestAlpha = alpha;
                best = scales;
            }
        }
        return (bestAlpha, best!, bestLoss, baseLoss);
    }

    /// <summary>
    /// Folds a layer's four scale vectors into its weights, in place, leaving the layer's fp32 function unchanged (up to
    /// rounding), by <see cref="ChannelScaleFolding"/>: attention_norm /= s_qkv and wq, wk, wv columns *= s_qkv; wv rows
    /// /= s_o (per kv channel, so <paramref name="attentionOutput"/> must be tied across the query heads of a kv head) and
    /// wo columns *= s_o; ffn_norm /= s_mlp and w1, w3 columns *= s_mlp; w3 rows /= s_down and w2 columns *= s_down.
    /// </summary>
    public static void ApplyScales(LlamaConfig c, LlamaLayerWeights w, ReadOnlySpan<double> attention, ReadOnlySpan<double> attentionOutput,
        ReadOnlySpan<double> ffn, ReadOnlySpan<double> ffnHidden)
    {
        ChannelScaleFolding.FoldAttentionInput(c, w, attention);
        ChannelScaleFolding.FoldAttentionOutput(c, w, attentionOutput);
        ChannelScaleFolding.FoldFfnInput(c, w, ffn);
        ChannelScaleFolding.FoldFfnHidden(c, w, ffnHidden);
    }
}
