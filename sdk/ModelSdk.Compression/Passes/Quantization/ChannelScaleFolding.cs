using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Per-input-channel scales folded into a Llama block so that its fp32 function is unchanged (up to rounding): the
/// linears reading an input get their columns multiplied by s, and the operation producing that input is divided by s.
/// Shared by AWQ (<see cref="AwqSearch"/>: s protects salient channels from weight rounding) and SmoothQuant
/// (<see cref="SmoothQuantPass"/>: s moves activation outliers into the weights). One method per <see cref="LinearInput"/>.
/// </summary>
public static class ChannelScaleFolding
{
    /// <summary>attention_norm /= s and wq, wk, wv columns *= s.</summary>
    public static void FoldAttentionInput(LlamaConfig c, LlamaLayerWeights w, ReadOnlySpan<double> s)
    {
        DivideVector(w.AttentionNorm, s);
        ScaleColumns(w.Wq, c.Dim, c.Dim, s);
        ScaleColumns(w.Wk, c.KvDim, c.Dim, s);
        ScaleColumns(w.Wv, c.KvDim, c.Dim, s);
    }

    /// <summary>
    /// wv rows /= s (per kv channel) and wo columns *= s: exact because each head's output is a convex combination of its
    /// kv head's value rows. <paramref name="s"/> must be tied across the query heads of a kv head (<see cref="TieAcrossKvGroups"/>).
    /// </summary>
    public static void FoldAttentionOutput(LlamaConfig c, LlamaLayerWeights w, ReadOnlySpan<double> s)
    {
        DivideRows(w.Wv, c.KvDim, c.Dim, KvRowScales(s, c));
        ScaleColumns(w.Wo, c.Dim, c.Dim, s);
    }

    /// <summary>ffn_norm /= s and w1, w3 columns *= s.</summary>
    public static void FoldFfnInput(LlamaConfig c, LlamaLayerWeights w, ReadOnlySpan<double> s)
    {
        DivideVector(w.FfnNorm, s);
        ScaleColumns(w.W1, c.HiddenDim, c.Dim, s);
        ScaleColumns(w.W3, c.HiddenDim, c.Dim, s);
    }

    /// <summary>w3 rows /= s and w2 columns *= s (w2 reads silu(w1 x) · (w3 x), linear in w3's output).</summary>
    public static void FoldFfnHidden(LlamaConfig c, LlamaLayerWeights w, ReadOnlySpan<double> s)
    {
        DivideRows(w.W3, c.HiddenDim, c.Dim, s);
        ScaleColumns(w.W2, c.Dim, c.HiddenDim, s);
    }

    /// <summary>Multiplies columns of a row-major [rows, cols] matrix by <paramref name="scales"/> (in place).</summary>
    public static void ScaleColumns(float[] weight, int rows, int cols, ReadOnlySpan<double> scales)
    {
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) weight[r * cols + c] = (float)(weight[r * cols + c] * scales[c]);
    }

    /// <summary>Divides rows of a row-major [rows, cols] matrix by <paramref name="scales"/> (in place).</summary>
    public static void DivideRows(float[] weight, int rows, int cols, ReadOnlySpan<double> scales)
    {
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) weight[r * cols + c] = (float)(weight[r * cols + c] / scales[r]);
    }

    /// <summary>Divides a norm weight (one value per channel) by <paramref name="scales"/> (in place).</summary>
    public static void DivideVector(float[] weight, ReadOnlySpan<double> scales)
    {
        for (var i = 0; i < weight.Length; i++) weight[i] = (float)(weight[i] / scales[i]);
    }

    /// <summary>
    /// The scales of wo's input channels (query head h, dimension d) tied across the query heads that share a kv head, so
    /// that 1/s can be folded into the rows of wv: the mean of the given per-channel values over those heads. With as many
    /// kv heads as heads this is the input itself.
    /// </summary>
    public static double[] TieAcrossKvGroups(ReadOnlySpan<double> perChannel, LlamaConfig config)
    {
        int headSize = config.HeadSize, group = config.Heads / config.KvHeads;
        var tied = new double[perChannel.Length];
        for (var kv = 0; kv < config.KvHeads; kv++)
        {
            for (var d = 0; d < headSize; d++)
            {
                double sum = 0;
                for (var h = kv * group; h < (kv + 1) * group; h++) sum += perChannel[h * headSize + d];
                for (var h = kv * group; h < (kv + 1) * group; h++) tied[h * headSize + d] = sum / group;
            }
        }
        return tied;
    }

    /// <summary>The kv_dim scales for wv's rows from wo's (tied) dim scales: those of the first query head of each kv group.</summary>
    public static double[] KvRowScales(ReadOnlySpan<double> tiedScales, LlamaConfig config)
    {
        int headSize = config.HeadSize, group = config.Heads / config.KvHeads;
        var rows = new double[config.KvDim];
        for (var kv = 0; kv < config.KvHeads; kv++)
            for (var d = 0; d < headSize; d++) rows[kv * headSize + d] = tiedScales[kv * group * headSize + d];
        return rows;
    }
}
