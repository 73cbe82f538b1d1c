using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// The activation side of the integer dot products: x quantized per 32-value block to int16 with an fp32 scale
/// (d = max|x| / 32767, q = round-to-even(x / d)), plus the per-group sums the weight formats' offsets need. int16 rather
/// than ggml's int8 (Q8_0) activations: its rounding error (2^-16 of the block's largest value) leaves perplexity
/// unchanged to five digits, where int8 activations moved stories15M's int4 perplexity by 0.1%, and on AVX2/AVX-512
/// <c>vpmaddwd</c> on widened codes costs about what <c>vpmaddubsw</c> + <c>vpmaddwd</c> do on bytes. Computed once per
/// matrix-vector call (O(cols), negligible next to rows·cols), by this one scalar routine for every kernel width and
/// for the reference, so all of them see identical activations.
/// </summary>
internal sealed unsafe class QuantizedActivations
{
    [ThreadStatic] private static QuantizedActivations? _perThread;

    private byte* _block;
    private int _capacity;

    /// <summary>int16 values, natural order, [cols].</summary>
    public short* Values;

    /// <summary>Scale of each 32-value block, [cols / 32].</summary>
    public float* Scales;

    /// <summary>Per weight group: Σ over its blocks of scale · Σ int16 values (≈ Σ x; symmetric int4's zero-code term).</summary>
    public float* GroupQuantizedSums;

    /// <summary>Per weight group: Σ x exactly, in fp32 (asymmetric int4's min term).</summary>
    public float* GroupSums;

    /// <summary>Scratch for the kernels: one float per block (the combined weight·activation scale of a row).</summary>
    public float* RowScales;

    /// <summary>Scratch like <see cref="RowScales"/> for the other rows of a multi-row step (rows 1..3).</summary>
    public float* RowScales1, RowScales2, RowScales3;

    /// <summary>Scratch for the kernels: fp32 weight scales (and mins) of a row, per group.</summary>
    public float* RowWeightScales, RowWeightMins;

    public int Cols, Blocks, Groups, GroupSize;

    /// <summary>The buffers go when their thread does.</summary>
    ~QuantizedActivations()
    {
        if (_block is not null) NativeMemory.AlignedFree(_block);
    }

    /// <summary>This thread's buffers, filled for <paramref name="x"/> (valid until the thread's next call).</summary>
    public static QuantizedActivations For(float* x, int cols, int groupSize)
    {
        var q = _perThread ??= new QuantizedActivations();
        q.Quantize(x, cols, groupSize);
        return q;
    }

    private void Ensure(int cols)
    {
        if (cols <= _capacity) return;
        if (_block is not null) NativeMemory.AlignedFree(_block);
        var blocks = cols / 32 + 16; // + 16: vector loads of a row's group scales may read (never use) up to 8 floats past the end
        // values, then nine float arrays of at most one entry per block (every group is at least one block).
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)(2 * cols + 64 + 9 * (blocks * 4 + 64)), 64);
        _capacity = cols;
        var at = _block;
        Values = (short*)at; at += (2 * cols + 63) & ~63;
        float* Next()
        {
            var p = (float*)at;
            at += (blocks * 4 + 63) & ~63;
            return p;
        }
        Scales = Next(); GroupQuantizedSums = Next(); GroupSums = Next(); RowScales = Next(); RowScales1 = Next(); RowScales2 = Next(); RowScales3 = Next(); RowWeightScales = Next(); RowWeightMins = Next();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Quantize(float* x, int cols, int groupSize)
    {
        Ensure(cols);
        Cols = cols;
        Blocks = cols / 32;
        GroupSize = groupSize;
        Groups = (cols + groupSize - 1) / groupSize;
        var blocksPerGroup = groupSize / 32;
        for (var g = 0; g < Groups; g++)
        {
            float quantizedSum = 0, sum = 0;
            var end = Math.Min(Blocks, (g + 1) * blocksPerGroup);
            for (var b = g * blocksPerGroup; b < end; b++)
            {
                var xb = x + b * 32;
                float amax = 0;
                for (var i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(xb[i]));
                var d = amax / 32767f;
                var inverse = d != 0 ? 1f / d : 0f;
                var qb = Values + b * 32;
                int integerSum = 0;
                for (var i = 0; i < 32; i++)
                {
                    var q = (int)Math.Clamp(MathF.Round(xb[i] * inverse), -32767f, 32767f);
                    qb[i] = (short)q;
                    integerSum += q;
                    sum += xb[i];
                }
                Scales[b] = d;
                quantizedSum += d * integerSum;
            }
            GroupQuantizedSums[g] = quantizedSum;
            GroupSums[g] = sum;
        }
    }
}
