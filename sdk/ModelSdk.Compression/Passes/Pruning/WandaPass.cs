using ModelSdk.Compression.Calibration;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// <c>wanda</c> (Sun et al., 2024, "A Simple and Effective Pruning Approach for Large Language Models"): a weight's
/// importance is |W_ij| · ‖X_j‖₂, its magnitude times the norm of its input channel over all calibration tokens; the
/// least important weights of every output row (every group of M for N:M) are zeroed. No weight update. Sequential over
/// the blocks (<see cref="CalibratedPruningPass"/>).
/// </summary>
public sealed class WandaPass(SparsityPattern pattern, PruningTargets targets) : CalibratedPruningPass(pattern, targets)
{
    public static PassDescriptor Descriptor { get; } = new(
        "wanda", "prune by |weight| × input norm per row, on calibration data (Sparsity 0.5 or N:M such as 2:4; PruneLayers; PruneClassifier)",
        PruningTargets.OptionNames,
        options => Create(options, (pattern, targets) => new WandaPass(pattern, targets)));

    public override string Name => Descriptor.Name;

    public override int Version => 1;

    protected override Func<float[], int, int, SparsityPattern, float[]> ForInput(CalibrationForward forward, Activations input, CancellationToken ct)
    {
        var norms = ChannelNorms(input);
        return (weights, rows, cols, pattern) => Prune(weights, rows, cols, norms, pattern, ct);
    }

    /// <summary>‖X_j‖₂ over tokens for every input channel j (summed in double).</summary>
    public static double[] ChannelNorms(Activations input)
    {
        var sums = new double[input.Width];
        for (var t = 0; t < input.Tokens; t++)
        {
            var row = input.Row(t);
            for (var j = 0; j < row.Length; j++) sums[j] += (double)row[j] * row[j];
        }
        for (var j = 0; j < sums.Length; j++) sums[j] = Math.Sqrt(sums[j]);
        return sums;
    }

    /// <summary>A pruned copy of a row-major [rows, cols] matrix given its input channel norms.</summary>
    public static float[] Prune(float[] weights, int rows, int cols, double[] norms, SparsityPattern pattern, CancellationToken ct = default)
    {
        if (weights.Length != (long)rows * cols || norms.Length != cols) throw new ArgumentException($"Expected a [{rows}, {cols}] matrix and {cols} norms.");
        var pruned = (float[])weights.Clone();
        Parallel.For(0, rows, new ParallelOptions { CancellationToken = ct }, r =>
        {
            var row = pruned.AsSpan(r * cols, cols);
            var scores = new double[cols];
            for (var c = 0; c < cols; c++) scores[c] = Math.Abs(row[c]) * norms[c];
            PruningMask.Apply(row, scores, pattern);
        });
        return pruned;
    }
}
