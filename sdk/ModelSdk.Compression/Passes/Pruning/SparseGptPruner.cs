using ModelSdk.Compression.LinearAlgebra;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>What SparseGPT made of one matrix.</summary>
/// <param name="Pruned">The pruned and reconstructed weights (row-major fp32, the pruned ones exactly 0).</param>
/// <param name="Error">The OBS loss: Σ over weights of (w − q)² / (2 [U]ᵢᵢ²), the predicted increase of the layer's output error.</param>
public sealed record SparseGptResult(float[] Pruned, double Error);

/// <summary>
/// SparseGPT (Frantar and Alistarh, 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot") for
/// one row-major [rows, cols] matrix W and the Hessian H = 2 X Xᵀ / n of its inputs, in double precision, following the
/// reference implementation: dead inputs get H[i, i] = 1; dampening λ = Damping · mean(diag H); U = the upper Cholesky
/// factor of (H + λI)⁻¹; columns are visited left to right in blocks of 128. Entering a block (unstructured) or a group
/// of M columns (N:M), the weights to prune are chosen among the block's or group's current, already updated weights by
/// the OBS saliency w² / U[i, i]²; then each column's weights are pruned (set to 0) or kept, and the error
/// e = (w − q) / U[i, i] is spread over the columns after it (w_j −= e · U[i, j]; lazily past the block), which
/// reconstructs what the pruned weights contributed from the remaining ones.
/// <para>
/// The reference chooses an unstructured block's mask by one threshold over all rows; here every row gets its own share
/// of each block (the row's total rounded over the block boundaries), so every row has exactly the requested sparsity —
/// as magnitude and Wanda have — and rows stay independent: tiles of rows run in parallel, deterministically.
/// </para>
/// <para>
/// Joint quantization (the paper's "joint sparsification and quantization", with a symmetric packed
/// <c>quantization</c> format): a kept weight becomes its quantized value instead of staying as it is, and the error
/// spread is that of pruning or quantizing, as GPTQ does; entering a quantization group, its parameters come from the
/// group's current weights (GPTQ's rule). Leaving a group, its final values are quantized once more by
/// round-to-nearest (<see cref="GroupQuantizer.QuantizeGroup"/>, what <c>rtn-*</c> does) and the difference spread over
/// the columns after the group, so that a round-to-nearest pass afterwards finds exactly these codes (checked here);
/// pruned weights stay exactly 0, which symmetric formats keep.
/// </para>
/// </summary>
public static class SparseGptPruner
{
    private const int RowTile = 16;

    /// <summary>The reference's block width (columns per lazy batch update).</summary>
    public const int BlockSize = 128;

    /// <summary>The reference's dampening (1% of the mean diagonal).</summary>
    public const double DefaultDamping = 0.01;

    public static SparseGptResult Prune(ReadOnlySpan<float> weight, int rows, int cols, ReadOnlySpan<double> hessian, SparsityPattern pattern,
        double damping = DefaultDamping, int? threads = null, CancellationToken ct = default, TensorFormat? quantization = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (weight.Length != (long)rows * cols) throw new ArgumentException($"{weight.Length} values do not make a [{rows}, {cols}] matrix.", nameof(weight));
        if (hessian.Length != (long)cols * cols) throw new ArgumentException($"The Hessian must be {cols} × {cols}.", nameof(hessian));
        if (pattern.IsSemiStructured && cols % pattern.GroupSize != 0)
            throw new ArgumentException($"A row of {cols} is not a whole number of groups of {pattern.GroupSize}.", nameof(cols));
        if (damping <= 0 || !double.IsFinite(damping)) throw new ArgumentOutOfRangeException(nameof(damping), "Damping must be positive.");
        // N:M groups never straddle a block.
        var block = pattern.IsSemiStructured ? (BlockSize + pattern.GroupSize - 1) / pattern.GroupSize * pattern.GroupSize : BlockSize;
        if (quantization is not null && (!quantization.IsPacked || quantization.Scheme != QuantScheme.Symmetric || block % quantization.GroupSize != 0 || cols % TensorFormats.BlockSize != 0))
            throw new ArgumentException($"Joint quantization needs a symmetric packed format whose groups fit the {block}-column blocks and a row of whole {TensorFormats.BlockSize}-value blocks; {quantization.Name} on rows of {cols} does not.", nameof(quantization));

        var h = hessian.ToArray();
        double meanDiagonal = 0;
        for (var i = 0; i < cols; i++)
        {
            if (h[i * cols + i] == 0) h[i * cols + i] = 1;
            meanDiagonal += h[i * cols + i];
        }
        var lambda = damping * meanDiagonal / cols;
        double[]? u = null;
        for (var attempt = 0; attempt < 4 && u is null; attempt++, lambda *= 10)
        {
            var damped = (double[])h.Clone();
            for (var i = 0; i < cols; i++) damped[i * cols + i] += lambda;
            u = Cholesky.TryUpperFactorOfInverse(damped, cols);
        }
        if (u is null) throw new InvalidOperationException($"The Hessian of a [{rows}, {cols}] matrix is not positive definite even with dampening {lambda:g3}.");

        var source = weight.ToArray();
        var pruned = new float[source.Length];
        var tiles = (rows + RowTile - 1) / RowTile;
        var errors = new double[tiles];
        Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads ?? Environment.ProcessorCount), CancellationToken = ct },
            tile => errors[tile] = PruneRows(source, tile * RowTile, Math.Min(rows, (tile + 1) * RowTile), cols, u, pattern, block, quantization, pruned));
        double error = 0;
        foreach (var e in errors) error += e; // fixed order: deterministic
        return new SparseGptResult(pruned, error);
    }

    private static double PruneRows(float[] source, int first, int end, int cols, double[] u, SparsityPattern pattern, int block, TensorFormat? format, float[] pruned)
    {
        var groupSize = format?.GroupSize ?? 0;
        var parameters = new GroupParams[end - first];
        var groupValues = new float[groupSize];
        var count = end - first;
        var perRow = pattern.PrunedPerRow(cols);
        var w = new double[count][];
        var mask = new bool[count][];
        var errors = new double[count][];
        for (var r = 0; r < count; r++)
        {
            w[r] = new double[cols];
            var row = source.AsSpan((first + r) * cols, cols);
            for (var i = 0; i < cols; i++) w[r][i] = row[i];
            mask[r] = new bool[cols];
            errors[r] = new double[block];
        }
        var scores = new double[block];

        double loss = 0;
        for (var i1 = 0; i1 < cols; i1 += block)
        {
            var i2 = Math.Min(cols, i1 + block);
            if (!pattern.IsSemiStructured)
            {
                // This block's share of the row's zeros: round(perRow · end / cols) minus what the blocks before took.
                var take = Share(perRow, i2, cols) - Share(perRow, i1, cols);
                for (var r = 0; r < count; r++)
                {
                    Saliency(w[r], u, cols, i1, i2, scores);
                    PruningMask.SelectSmallest(scores.AsSpan(0, i2 - i1), take, mask[r].AsSpan(i1, i2 - i1));
                }
            }
            for (var i = i1; i < i2; i++)
            {
                var uRow = u.AsSpan(i * cols, cols);
                var d = uRow[i];
                for (var r = 0; r < count; r++)
                {
                    var wr = w[r];
                    if (pattern.IsSemiStructured && (i - i1) % pattern.GroupSize == 0)
                    {
                        var m = pattern.GroupSize;
                        Saliency(wr, u, cols, i, i + m, scores);
                        PruningMask.SelectSmallest(scores.AsSpan(0, m), pattern.PrunedPerGroup, mask[r].AsSpan(i, m));
                    }
                    if (format is not null && i % groupSize == 0)
                    {
                        var length = Math.Min(groupSize, cols - i);
                        for (var k = 0; k < length; k++) groupValues[k] = (float)wr[i + k];
                        parameters[r] = GroupQuantizer.FindParams(format, groupValues.AsSpan(0, length));
                    }
                    // On the group's grid but not clamped to its code range: the OBS updates of pruning can grow a weight past
                    // the group's largest value at entry, and clamping it would be a large error; leaving the group settles the range.
                    var q = mask[r][i] ? 0
                        : format is null || parameters[r].Scale == 0 ? wr[i]
                        : MathF.Round((float)wr[i] / parameters[r].Scale) * parameters[r].Scale;
                    var e = (wr[i] - q) / d;
                    loss += e * e / 2;
                    errors[r][i - i1] = e;
                    wr[i] = q;
                    if (e != 0) DenseDouble.Axpy(wr.AsSpan(i + 1, i2 - i - 1), -e, uRow.Slice(i + 1, i2 - i - 1));
                }
                if (format is not null && ((i + 1) % groupSize == 0 || i + 1 == cols))
                {
                    var start = i + 1 - ((i % groupSize) + 1);
                    for (var r = 0; r < count; r++) loss += SettleGroup(w[r], errors[r], u, cols, start, i + 1, i1, i2, format, groupValues);
                }
            }
            if (i2 < cols)
            {
                // Lazy batch update: the columns after the block receive the whole block's errors at once.
                for (var i = i1; i < i2; i++)
                {
                    var tail = u.AsSpan(i * cols + i2, cols - i2);
                    for (var r = 0; r < count; r++)
                        if (errors[r][i - i1] != 0) DenseDouble.Axpy(w[r].AsSpan(i2), -errors[r][i - i1], tail);
                }
            }
        }

        for (var r = 0; r < count; r++)
        {
            var row = pruned.AsSpan((first + r) * cols, cols);
            for (var i = 0; i < cols; i++) row[i] = mask[r][i] ? 0f : (float)w[r][i];
        }
        return loss;
    }

    /// <summary>
    /// Joint quantization, leaving the group of columns [start, end) of one row: its values quantized by round-to-nearest
    /// as the <c>rtn-*</c> pass will (usually already so; otherwise the group's largest value moved after its parameters
    /// were chosen), the difference spread over the block's later columns now and, through <paramref name="errors"/>,
    /// over the columns after the block by the lazy update. Returns the added OBS loss.
    /// </summary>
    private static double SettleGroup(double[] w, double[] errors, double[] u, int cols, int start, int end, int i1, int i2, TensorFormat format, float[] values)
    {
        var length = end - start;
        Span<int> codes = stackalloc int[length];
        for (var k = 0; k < length; k++) values[k] = (float)w[start + k];
        var p = GroupQuantizer.QuantizeGroup(format, values.AsSpan(0, length), codes);
        double loss = 0;
        for (var k = 0; k < length; k++)
        {
            var i = start + k;
            var q = GroupQuantizer.Decode(format, codes[k], p);
            var e = (w[i] - q) / u[i * cols + i];
            if (e == 0) continue;
            loss += e * e / 2;
            errors[i - i1] += e;
            w[i] = q;
            if (end < i2) DenseDouble.Axpy(w.AsSpan(end, i2 - end), -e, u.AsSpan(i * cols + end, i2 - end));
        }
        // The invariant the pipeline relies on: round-to-nearest finds these very codes again.
        for (var k = 0; k < length; k++) values[k] = (float)w[start + k];
        Span<int> again = stackalloc int[length];
        if (GroupQuantizer.QuantizeGroup(format, values.AsSpan(0, length), again) != p || !again.SequenceEqual(codes))
            throw new InvalidOperationException($"Joint {format.Name} quantization: round-to-nearest does not reproduce the codes of columns {start}..{end - 1}.");
        return loss;
    }

    /// <summary>w_i² / U[i, i]² for columns [from, to) into scores[0..].</summary>
    private static void Saliency(double[] w, double[] u, int cols, int from, int to, double[] scores)
    {
        for (var i = from; i < to; i++)
        {
            var d = u[i * cols + i];
            scores[i - from] = w[i] * w[i] / (d * d);
        }
    }

    private static int Share(int total, int end, int cols) => (int)(((long)total * end + cols / 2) / cols);
}
