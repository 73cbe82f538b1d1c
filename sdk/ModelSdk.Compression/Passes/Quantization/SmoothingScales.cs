namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// SmoothQuant's per-input-channel smoothing factors (Xiao et al., 2023, "SmoothQuant: Accurate and Efficient Post-Training
/// Quantization for Large Language Models", eq. 4): s_j = max|X_j|^α / max|W_j|^(1−α), where max|X_j| is channel j's
/// largest activation on calibration data and max|W_j| the largest weight in input column j of every linear reading that
/// input. X/s and W·s then share the difficulty: α = 1 gives the activations a flat range, α = 0 the weights.
/// </summary>
public static class SmoothingScales
{
    /// <summary>The paper's floor on s (its <c>clamp(min=1e-5)</c>).</summary>
    public const double Floor = 1e-5;

    /// <summary>
    /// s per channel. A channel with no activation or no weight on the calibration data (max 0) keeps s = 1: nothing
    /// flows through it to balance, and 1 leaves it as it is.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<double> activationMax, ReadOnlySpan<double> weightMax, double alpha)
    {
        if (activationMax.Length != weightMax.Length)
            throw new ArgumentException($"{activationMax.Length} activation ranges for {weightMax.Length} weight columns.", nameof(weightMax));
        var s = new double[activationMax.Length];
        for (var j = 0; j < s.Length; j++)
            s[j] = activationMax[j] > 0 && weightMax[j] > 0
                ? Math.Max(Floor, Math.Pow(activationMax[j], alpha) / Math.Pow(weightMax[j], 1 - alpha))
                : 1;
        return s;
    }

    /// <summary>max |W[r, j]| over the rows of every row-major [rows, <paramref name="cols"/>] matrix given, per column j.</summary>
    public static double[] ColumnMax(int cols, params float[][] matrices)
    {
        var max = new double[cols];
        foreach (var w in matrices)
            for (var at = 0; at < w.Length; at++)
                max[at % cols] = Math.Max(max[at % cols], Math.Abs(w[at]));
        return max;
    }
}
