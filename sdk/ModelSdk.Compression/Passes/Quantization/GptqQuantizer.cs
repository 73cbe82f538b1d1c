using ModelSdk.Compression.LinearAlgebra;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>How GPTQ quantizes one matrix (see <see cref="GptqQuantizer"/>).</summary>
/// <param name="Damping">λ = Damping · mean(diag H) is added to the diagonal of H (the paper's and reference's 1%).</param>
/// <param name="BlockSize">Columns per lazy batch update (the reference's 128); rounded up to a multiple of the group size.</param>
/// <param name="ActOrder">
/// Quantize columns in order of decreasing H[i, i] (activation order). The groups stay the format's contiguous runs of
/// columns (the kernels need them so), so their parameters are fixed up front from the unmodified weights: the
/// reference implementation's <c>static_groups=True</c> behaviour.
/// </param>
/// <param name="Threads">Rows are independent given H: tiles of rows run in parallel on this many threads (default: all cores).</param>
public sealed record GptqSettings(double Damping = 0.01, int BlockSize = 128, bool ActOrder = false, int? Threads = null);

/// <summary>What GPTQ made of one matrix.</summary>
/// <param name="Packed">The codes and fp16 group parameters, in the format's packed layout.</param>
/// <param name="Dequantized">What <see cref="Packed"/> decodes to (row-major fp32): the weights the rest of the calibration forward uses.</param>
/// <param name="Error">GPTQ's loss: Σ over weights of (w − q)² / (2 [H⁻¹]ᵢᵢ), the increase of ‖W X − Q X‖² / n · … predicted by the OBS step.</param>
/// <param name="DeadColumns">Input channels that were zero on every calibration token (kept, rounded to nearest).</param>
/// <param name="Damping">The λ actually added (raised ×10 per retry when H + λI was not positive definite in double precision).</param>
public sealed record GptqResult(PackedTensor Packed, float[] Dequantized, double Error, int DeadColumns, double Damping);

/// <summary>
/// GPTQ (Frantar et al., 2023, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers") for one
/// row-major [rows, cols] matrix W and the Hessian H = 2 X Xᵀ / n of its inputs (cols × cols), in double precision:
/// <list type="number">
/// <item>dead input channels (H[i, i] = 0) get H[i, i] = 1: they neither receive nor spread error (the reference also zeroes
/// their weights; we keep them, rounded to nearest, so an input that calibration never exercised still works);</item>
/// <item>optionally the columns are permuted by decreasing H[i, i] (<see cref="GptqSettings.ActOrder"/>);</item>
/// <item>dampening λ = 1% of the mean diagonal; U = upper Cholesky factor of (H + λI)⁻¹;</item>
/// <item>columns are quantized left to right in blocks of 128: column i is rounded with the format's own encoder, its error
/// e = (w − q) / U[i, i] is spread over the remaining columns of the block at once (w_j −= e · U[i, j]) and over the columns
/// after the block lazily, one block at a time (W[:, end..] −= E · U[block, end..]);</item>
/// <item>a group's parameters are found when its first column is reached, from the group's current (error-updated) weights,
/// by the format's own rule (<see cref="GroupQuantizer.FindParams"/>: fp16 as stored).</item>
/// </list>
/// Rows do not interact (each row's updates use only that row's errors), so the work runs over tiles of rows in parallel;
/// each tile reads every row of U once. The result is independent of the thread count.
/// </summary>
public static class GptqQuantizer
{
    private const int RowTile = 16;

    public static GptqResult Quantize(ReadOnlySpan<float> weight, int rows, int cols, ReadOnlySpan<double> hessian, TensorFormat format,
        GptqSettings? settings = null, CancellationToken ct = default)
    {
        settings ??= new GptqSettings();
        ArgumentNullException.ThrowIfNull(format);
        if (!format.IsPacked) throw new ArgumentException($"{format.Name} is not a quantized format.", nameof(format));
        if (weight.Length != (long)rows * cols) throw new ArgumentException($"{weight.Length} values do not make a [{rows}, {cols}] matrix.", nameof(weight));
        if (hessian.Length != (long)cols * cols) throw new ArgumentException($"The Hessian must be {cols} × {cols}.", nameof(hessian));
        var g = format.GroupSize;
        if (cols % TensorFormats.BlockSize != 0)
            throw new ArgumentException($"{format.Name} needs a row length that is a multiple of {TensorFormats.BlockSize}; it is {cols}.", nameof(cols));
        if (settings.Damping <= 0 || !double.IsFinite(settings.Damping)) throw new ArgumentOutOfRangeException(nameof(settings), "Damping must be positive.");
        var block = Math.Max(g, (Math.Max(1, settings.BlockSize) + g - 1) / g * g);

        var h = hessian.ToArray();
        var dead = 0;
        for (var i = 0; i < cols; i++)
        {
            if (h[i * cols + i] == 0)
            {
                h[i * cols + i] = 1;
                dead++;
            }
        }

        // Column order: identity, or by decreasing activation energy (ties by index, so the order is deterministic).
        var order = Enumerable.Range(0, cols).ToArray();
        if (settings.ActOrder) order = order.OrderByDescending(i => h[i * cols + i]).ThenBy(i => i).ToArray();
        var permuted = new double[cols * cols];
        for (var i = 0; i < cols; i++)
            for (var j = 0; j < cols; j++) permuted[i * cols + j] = h[order[i] * cols + order[j]];

        double meanDiagonal = 0;
        for (var i = 0; i < cols; i++) meanDiagonal += permuted[i * cols + i];
        meanDiagonal /= cols;
        var damping = settings.Damping * meanDiagonal;
        double[]? u = null;
        for (var attempt = 0; attempt < 4 && u is null; attempt++, damping *= 10)
        {
            var damped = (double[])permuted.Clone();
            for (var i = 0; i < cols; i++) damped[i * cols + i] += damping;
            u = Cholesky.TryUpperFactorOfInverse(damped, cols);
            if (u is not null) break;
        }
        if (u is null) throw new InvalidOperationException($"The Hessian of a [{rows}, {cols}] matrix is not positive definite even with dampening {damping:g3}.");

        var source = weight.ToArray();
        var packed = new PackedTensor(format, rows, cols);
        var dequantized = new float[source.Length];
        var tiles = (rows + RowTile - 1) / RowTile;
        var errors = new double[tiles];
        Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Threads ?? Environment.ProcessorCount), CancellationToken = ct },
            tile => errors[tile] = QuantizeRows(source, tile * RowTile, Math.Min(rows, (tile + 1) * RowTile), cols, u, order, format, block,
                settings, packed, dequantized));
        double error = 0;
        foreach (var e in errors) error += e; // fixed order: deterministic
        return new GptqResult(packed, dequantized, error, dead, damping);
    }

    /// <summary>Rows [first, end): quantize into <paramref name="packed"/> and <paramref name="dequantized"/>; returns their GPTQ loss.</summary>
    private static double QuantizeRows(float[] source, int first, int end, int cols, double[] u, int[] order, TensorFormat format, int block,
        GptqSettings settings, PackedTensor packed, float[] dequantized)
    {
        var staticGroups = settings.ActOrder;
        var g = format.GroupSize;
        var groups = packed.GroupsPerRow; // the last group is shorter when g does not divide cols
        var count = end - first;
        var w = new double[count][]; // the rows being updated, in quantization (permuted) order
        var codes = new int[count][]; // in original column order
        var parameters = new GroupParams[count, groups]; // per original group
        var errors = new double[count][]; // scaled errors of the current block
        var groupValues = new float[g];
        for (var r = 0; r < count; r++)
        {
            var row = source.AsSpan((first + r) * cols, cols);
            w[r] = new double[cols];
            for (var i = 0; i < cols; i++) w[r][i] = row[order[i]];
            codes[r] = new int[cols];
            errors[r] = new double[block];
            if (staticGroups)
                for (var group = 0; group < groups; group++)
                {
                    var length = packed.GroupLength(group);
                    parameters[r, group] = GroupQuantizer.FindParams(format, row.Slice(group * g, length));
                }
        }

        double loss = 0;
        for (var i1 = 0; i1 < cols; i1 += block)
        {
            var i2 = Math.Min(cols, i1 + block);
            for (var i = i1; i < i2; i++)
            {
                var uRow = u.AsSpan(i * cols, cols);
                var d = uRow[i];
                var column = order[i];
                var group = column / g;
                for (var r = 0; r < count; r++)
                {
                    var wr = w[r];
                    if (!staticGroups && i % g == 0)
                    {
                        // Entering a group (columns i..i+length-1, unpermuted since act-order uses static groups): its parameters
                        // from the weights as the errors of the columns before have left them.
                        var length = packed.GroupLength(group);
                        for (var k = 0; k < length; k++) groupValues[k] = (float)wr[i + k];
                        parameters[r, group] = GroupQuantizer.FindParams(format, groupValues.AsSpan(0, length));
                    }
                    var p = parameters[r, group];
                    var code = GroupQuantizer.Encode(format, (float)wr[i], p);
                    var q = GroupQuantizer.Decode(format, code, p);
                    codes[r][column] = code;
                    var e = (wr[i] - q) / d;
                    loss += e * e / 2;
                    errors[r][i - i1] = e;
                    wr[i] = q;
                    DenseDouble.Axpy(wr.AsSpan(i + 1, i2 - i - 1), -e, uRow.Slice(i + 1, i2 - i - 1));
                }
            }
            if (i2 < cols)
            {
                // Lazy batch update: the columns after the block receive the whole block's errors at once.
                for (var i = i1; i < i2; i++)
                {
                    var tail = u.AsSpan(i * cols + i2, cols - i2);
                    for (var r = 0; r < count; r++) DenseDouble.Axpy(w[r].AsSpan(i2), -errors[r][i - i1], tail);
                }
            }
        }

        for (var r = 0; r < count; r++)
        {
            var row = first + r;
            for (var group = 0; group < groups; group++)
            {
                var length = packed.GroupLength(group);
                var groupCodes = codes[r].AsSpan(group * g, length);
                var p = parameters[r, group];
                packed.SetGroup(row, group, groupCodes, p);
                for (var k = 0; k < length; k++) dequantized[row * cols + group * g + k] = GroupQuantizer.Decode(format, groupCodes[k], p);
            }
        }
        return loss;
    }
}
