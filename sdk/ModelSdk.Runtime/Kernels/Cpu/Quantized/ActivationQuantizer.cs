using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// The activation side of the integer dot products: x quantized per 32-value block to int16 with an fp32 scale
/// (d = max|x| / 32767, q = round-to-even(x / d)), plus the per-group sums the weight formats' offsets need. int16 rather
/// than ggml's int8 (Q8_0) activations: its rounding error (2^-16 of the block's largest value) leaves perplexity
/// unchanged to five digits, where int8 activations moved stories15M's int4 perplexity by 0.1%, and on AVX2/AVX-512
/// <c>vpmaddwd</c> on widened codes costs about what <c>vpmaddubsw</c> + <c>vpmaddwd</c> do on bytes. Computed once per
/// matrix-vector call (and per chunk of rows a thread takes) by this one routine for every kernel width and for the
/// reference, so all of them see identical activations. Its AVX2 form gives the scalar form's bits exactly (the same
/// per-value arithmetic; the block maximum and the integer sums do not depend on order; Σx, summed in order, stays
/// scalar and is computed only for the asymmetric formats that use it): the routine was 6% of a 1.1B-shape int4
/// decode's time in its scalar form.
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

    /// <summary>Per weight group: Σ x summed in order, in fp32 (asymmetric int4's min term); NaN when not asked for.</summary>
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
    public static QuantizedActivations For(float* x, int cols, int groupSize, bool groupSums)
    {
        var q = _perThread ??= new QuantizedActivations();
        q.Quantize(x, cols, groupSize, groupSums, Avx2.IsSupported);
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

    /// <summary>
    /// Fills the buffers for <paramref name="x"/>; <see cref="GroupSums"/> only when <paramref name="groupSums"/> (the
    /// asymmetric formats; an in-order fp32 sum is a serial chain). <paramref name="vectorized"/> picks the AVX2 form,
    /// which the tests compare with the scalar one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Quantize(float* x, int cols, int groupSize, bool groupSums, bool vectorized)
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
                var qb = Values + b * 32;
                var d = vectorized ? Block256(xb, qb, out var integerSum) : BlockScalar(xb, qb, out integerSum);
                if (groupSums)
                    for (var i = 0; i < 32; i++) sum += xb[i];
                Scales[b] = d;
                quantizedSum += d * integerSum;
            }
            GroupQuantizedSums[g] = quantizedSum;
            GroupSums[g] = groupSums ? sum : float.NaN;
        }
    }

    /// <summary>One 32-value block: its int16 codes into <paramref name="q"/>, its scale returned, Σ codes in <paramref name="integerSum"/>.</summary>
    private static float BlockScalar(float* x, short* q, out int integerSum)
    {
        float amax = 0;
        for (var i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        var d = amax / 32767f;
        var inverse = d != 0 ? 1f / d : 0f;
        integerSum = 0;
        for (var i = 0; i < 32; i++)
        {
            var code = (int)Math.Clamp(MathF.Round(x[i] * inverse), -32767f, 32767f);
            q[i] = (short)code;
            integerSum += code;
        }
        return d;
    }

    /// <summary><see cref="BlockScalar"/> in AVX2: the same products, round-to-even and clamp per value, so the same codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Block256(float* x, short* q, out int integerSum)
    {
        Vector256<float> x0 = Vector256.Load(x), x1 = Vector256.Load(x + 8), x2 = Vector256.Load(x + 16), x3 = Vector256.Load(x + 24);
        var m = Vector256.Max(Vector256.Max(Vector256.Abs(x0), Vector256.Abs(x1)), Vector256.Max(Vector256.Abs(x2), Vector256.Abs(x3)));
        var d = Softmax.HorizontalMax(m) / 32767f;
        var inverse = Vector256.Create(d != 0 ? 1f / d : 0f);
        Vector256<float> low = Vector256.Create(-32767f), high = Vector256.Create(32767f);
        Vector256<int> Code(Vector256<float> v) => Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Avx.RoundToNearestInteger(v * inverse), low), high));
        Vector256<int> c0 = Code(x0), c1 = Code(x1), c2 = Code(x2), c3 = Code(x3);
        // vpackssdw packs within 128-bit lanes; the 64-bit permute restores natural order. |codes| ≤ 32767: no saturation.
        Avx2.Permute4x64(Avx2.PackSignedSaturate(c0, c1).AsInt64(), 0b11_01_10_00).AsInt16().Store(q);
        Avx2.Permute4x64(Avx2.PackSignedSaturate(c2, c3).AsInt64(), 0b11_01_10_00).AsInt16().Store(q + 16);
        integerSum = Vector256.Sum((c0 + c1) + (c2 + c3));
        return d;
    }
}
