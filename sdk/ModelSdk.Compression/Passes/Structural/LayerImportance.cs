using ModelSdk.Compression.Calibration;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Structural;

/// <summary>
/// How much each transformer block changes the residual stream on calibration text: the cosine similarity of the block's
/// input and output hidden state, per token, averaged over all tokens (ShortGPT's "block influence" is one minus it).
/// Near 1 means the block adds little that is not already there: the most redundant block to drop.
/// </summary>
public static class LayerImportance
{
    /// <summary>
    /// Mean cosine similarity of input and output of each block of <paramref name="model"/> (as it is now, fp32 forward of
    /// <see cref="CalibrationForward"/>) over every token of <paramref name="calibration"/>, one value per block.
    /// </summary>
    public static double[] InputOutputCosine(WorkingModel model, CalibrationText calibration, CancellationToken ct = default, Action<double>? progress = null)
    {
        var config = model.Config;
        var forward = new CalibrationForward(config, calibration.Sequences, ct: ct);
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        var similarity = new double[config.Layers];
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var input = x.Clone();
            forward.Layer(x, LlamaLayerWeights.Load(model, layer));
            similarity[layer] = MeanCosine(input, x);
            progress?.Invoke((layer + 1.0) / config.Layers);
        }
        return similarity;
    }

    /// <summary>Mean over rows of cos(a_t, b_t), in double; a row that is zero in either counts as similarity 0.</summary>
    public static double MeanCosine(Activations a, Activations b)
    {
        if (a.Tokens != b.Tokens || a.Width != b.Width) throw new ArgumentException("Both activations must have the same shape.");
        if (a.Tokens == 0) throw new ArgumentException("There are no tokens to compare.", nameof(a));
        double sum = 0;
        for (var t = 0; t < a.Tokens; t++)
        {
            ReadOnlySpan<float> u = a.Row(t), v = b.Row(t);
            double dot = 0, uu = 0, vv = 0;
            for (var i = 0; i < u.Length; i++)
            {
                dot += (double)u[i] * v[i];
                uu += (double)u[i] * u[i];
                vv += (double)v[i] * v[i];
            }
            if (uu > 0 && vv > 0) sum += dot / Math.Sqrt(uu * vv);
        }
        return sum / a.Tokens;
    }
}
