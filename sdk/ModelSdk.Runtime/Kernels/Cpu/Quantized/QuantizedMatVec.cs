using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// Fused dequantize + matrix-vector product over a range of rows, <c>y[r] (+)= W[r,:] · x</c>, for every packed and
/// half-precision type of the traits table. No dequantized copy of the weights exists anywhere.
/// <para>
/// Packed int8/int4 weights meet int16 activations: x is quantized once per call per 32-value block
/// (<see cref="QuantizedActivations"/>), each block's codes are widened to int16 in registers (int4: one AND and one
/// shift split a block's 16 bytes into its 32 codes, then <c>vpmovzxbw</c>; int8: <c>vpmovsxbw</c>), multiplied with the
/// activations and summed in pairs to int32 by <c>vpmaddwd</c> — exact — then converted and scaled by weight scale ×
/// activation scale with one FMA. Symmetric int4's zero code (8) and asymmetric int4's min are one per-group term each
/// (<c>−8·d·Σx</c>, <c>min·Σx</c>) added per row. Per row the fp16 scales are widened 8 at a time into a small buffer,
/// already multiplied by the activation scales. The AVX2 int4 kernel takes 4 rows per pass over the activations
/// (<see cref="RowsPerStep"/>), so each activation vector loaded serves 4 rows: 1.3× the one-row speed; so does the int8
/// one. Both prefetch the rows a few steps ahead (<see cref="PrefetchRows"/>).
/// </para>
/// <para>
/// fp16 weights are widened to fp32 16 at a time by the exponent-rebias trick and meet fp32 activations.
/// </para>
/// <para>W8A8 types (<see cref="Tensors.TensorFormat.Int8Activations"/>) go to <see cref="Int8MatVec"/>.</para>
/// Paths: AVX-512BW (<see cref="VectorWidth.V512"/>: a block per instruction), AVX2 (<see cref="VectorWidth.V256"/>: half
/// a block); narrower widths run the scalar reference <see cref="QuantizedMatVecReference"/>, which defines the results.
/// </summary>
internal static unsafe class QuantizedMatVec
{
    /// <summary>
    /// Whether int4 weights take the 512-bit kernel at <see cref="VectorWidth.V512"/>. Off: on the Zen 4 development VM
    /// (512-bit operations issued as two 256-bit halves) the AVX2 kernel was measured faster for int4 (25 vs 17
    /// Gweights/s on a 5632×2048 matrix, one core), because the 512-bit form needs a cross-lane insert per block to put a
    /// block's low and high nibbles side by side. int8 takes the 512-bit kernel (24 vs 21 Gweights/s). Tests run both.
    /// </summary>
    internal static bool Int4Uses512 { get; set; }

    /// <summary>
    /// Rows the AVX2 int4 and int8 kernels take per pass over the activations (1, 2 (int4 only) or 4): each activation
    /// vector loaded is used by that many rows. Every row's sum is the same bit for bit whatever the step, so results do
    /// not depend on how rows are split across threads. A setting for the benchmark, which compares the steps.
    /// </summary>
    internal static int RowsPerStep { get; set; } = 4;

    /// <summary>
    /// How many rows ahead the 4-row kernels prefetch codes (a multiple of 4; 0: none). Their four streams of one row
    /// each (1 KB at 2048 columns) end before the hardware prefetcher has learned them, so without this each step's first
    /// touches of its rows wait for memory. Prefetching rows r+N..r+N+3 in address order while rows r..r+3 are computed
    /// (one forward stream) measured 1.75× (1 thread) and 2.1× (2 threads) the no-prefetch decode at the 1.1B shape,
    /// where a line of each of those rows at the same offset (four streams again) gave only 1.35–1.4× (<c>--int4-decode</c>,
    /// <c>--int4-steps</c>). 16 rows ahead measured the same or a little slower. A setting for the benchmark.
    /// </summary>
    internal static int PrefetchRows { get; set; } = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate, VectorWidth width)
    {
        if (rowStart >= rowEnd) return;
        if (w.IsF32)
        {
            MatVec.Rows(w.F32Data, x, y, w.Cols, rowStart, rowEnd, accumulate, width);
            return;
        }
        if (w.Int8Activations)
        {
            Int8MatVec.Rows(w, x, y, rowStart, rowEnd, accumulate, width);
            return;
        }
        var simd = width switch
        {
            VectorWidth.V512 when Avx512BW.IsSupported => 512,
            VectorWidth.V256 when Avx2.IsSupported && Fma.IsSupported => 256,
            _ => 0,
        };
        if (w.Type == TensorType.F16)
        {
            if (simd == 512) F16Rows512(w, x, y, rowStart, rowEnd, accumulate);
            else if (simd == 256) F16Rows256(w, x, y, rowStart, rowEnd, accumulate);
            else QuantizedMatVecReference.Rows(w, x, y, rowStart, rowEnd, accumulate);
            return;
        }

        var a = QuantizedActivations.For(x, w.Cols, w.GroupSize, w.Asymmetric);
        if (simd == 0)
        {
            QuantizedMatVecReference.Rows(w, a, y, rowStart, rowEnd, accumulate);
            return;
        }
        var r = rowStart;
        if (w.Bits == 4 && (simd == 256 || !Int4Uses512))
        {
            if (RowsPerStep >= 4)
                for (; r + 4 <= rowEnd; r += 4) Rows256x4<Int4Block>(w, a, y, r, accumulate);
            if (RowsPerStep >= 2)
                for (; r + 2 <= rowEnd; r += 2) Q4Rows256x2(w, a, y, r, accumulate);
        }
        else if (w.Bits == 8 && simd == 256 && RowsPerStep >= 4)
        {
            for (; r + 4 <= rowEnd; r += 4) Rows256x4<Int8Block>(w, a, y, r, accumulate);
        }
        for (; r < rowEnd; r++)
        {
            var offset = PrepareRow256(w, r, a, a.RowScales);
            var codes = w.Data + (long)r * w.RowCodeBytes;
            var dot = (simd, w.Bits) switch
            {
                (512, 8) => Q8Dot512(codes, a.Values, a.RowScales, a.Blocks),
                (512, _) when Int4Uses512 => Q4Dot512(codes, a.Values, a.RowScales, a.Blocks),
                (_, 8) => Q8Dot256(codes, a.Values, a.RowScales, a.Blocks),
                _ => Q4Dot256(codes, a.Values, a.RowScales, a.Blocks),
            };
            var sum = dot + offset;
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    /// <summary>
    /// Fills <see cref="QuantizedActivations.RowScales"/> with weight scale × activation scale per block and returns the
    /// row's offset term: −8·Σ_g d_g·Σx_g for symmetric int4 (its codes are unsigned), Σ_g min_g·Σx_g for asymmetric int4.
    /// The reference calls it too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float PrepareRow(in WeightMatrix w, int row, QuantizedActivations a)
    {
        var groups = w.GroupsPerRow;
        var scales = w.Scales + (long)row * groups;
        var mins = w.Mins + (long)row * groups;
        var blocksPerGroup = w.GroupSize / 32;
        float offset = 0;
        for (var g = 0; g < groups; g++)
        {
            var d = HalfBits.ToFloat(scales[g]);
            if (w.Asymmetric) offset += HalfBits.ToFloat(mins[g]) * a.GroupSums[g];
            else if (w.Bits == 4) offset -= 8 * d * a.GroupQuantizedSums[g];
            var end = Math.Min(a.Blocks, (g + 1) * blocksPerGroup);
            for (var b = g * blocksPerGroup; b < end; b++) a.RowScales[b] = d * a.Scales[b];
        }
        return offset;
    }

    /// <summary>
    /// <see cref="PrepareRow"/> vectorized (AVX2), the block scales written to <paramref name="s"/>: the same block scales
    /// bit for bit, the offset summed in another order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float PrepareRow256(in WeightMatrix w, int row, QuantizedActivations a, float* s)
    {
        var groups = w.GroupsPerRow;
        if (w.GroupSize == 32) return PrepareRowG32(w, row, a, s);
        var d = a.RowWeightScales;
        Widen(w.Scales + (long)row * groups, d, groups);
        float offset = 0;
        if (w.Asymmetric)
        {
            Widen(w.Mins + (long)row * groups, a.RowWeightMins, groups);
            offset = Dot(a.RowWeightMins, a.GroupSums, groups);
        }
        else if (w.Bits == 4)
        {
            offset = -8 * Dot(d, a.GroupQuantizedSums, groups);
        }
        if (w.GroupSize == 32)
        {
            var b = 0;
            for (; b + 8 <= a.Blocks; b += 8) (Vector256.Load(d + b) * Vector256.Load(a.Scales + b)).Store(s + b);
            for (; b < a.Blocks; b++) s[b] = d[b] * a.Scales[b];
        }
        else
        {
            // Groups of 64/128: block b's weight scale is d[b >> shift]; 8 blocks take 8 >> shift group scales, spread by a permute.
            var shift = w.GroupSize == 64 ? 1 : 2;
            var spread = shift == 1 ? Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3) : Vector256.Create(0, 0, 0, 0, 1, 1, 1, 1);
            var b = 0;
            for (; b + 8 <= a.Blocks; b += 8)
                (Avx2.PermuteVar8x32(Vector256.Load(d + (b >> shift)), spread) * Vector256.Load(a.Scales + b)).Store(s + b);
            for (; b < a.Blocks; b++) s[b] = d[b >> shift] * a.Scales[b];
        }
        return offset;

        static void Widen(ushort* halves, float* floats, int count)
        {
            var i = 0;
            for (; i + 8 <= count; i += 8) HalfToFloat256(halves + i).Store(floats + i);
            for (; i < count; i++) floats[i] = HalfBits.ToFloat(halves[i]);
        }

        static float Dot(float* p, float* q, int count)
        {
            var acc = Vector256<float>.Zero;
            var i = 0;
            for (; i + 8 <= count; i += 8) acc = Fma.MultiplyAdd(Vector256.Load(p + i), Vector256.Load(q + i), acc);
            var sum = Vector256.Sum(acc);
            for (; i < count; i++) sum += p[i] * q[i];
            return sum;
        }
    }

    /// <summary>
    /// <see cref="PrepareRow256"/> for group 32 (a group per block) in one pass: each 8 scales (and mins) widened are used
    /// at once for the block scales and the offset, not stored and read again: the same bits, and the int4 kernel at 4
    /// rows per step about 1.1× faster (<c>--int4-steps</c>, compared across runs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float PrepareRowG32(in WeightMatrix w, int row, QuantizedActivations a, float* s)
    {
        var groups = w.GroupsPerRow;
        var scales = w.Scales + (long)row * groups;
        var blocks = a.Blocks;
        var acc = Vector256<float>.Zero;
        var b = 0;
        if (w.Asymmetric)
        {
            var mins = w.Mins + (long)row * groups;
            for (; b + 8 <= blocks; b += 8)
            {
                (HalfToFloat256(scales + b) * Vector256.Load(a.Scales + b)).Store(s + b);
                acc = Fma.MultiplyAdd(HalfToFloat256(mins + b), Vector256.Load(a.GroupSums + b), acc);
            }
            var offset = Vector256.Sum(acc);
            for (; b < blocks; b++)
            {
                s[b] = HalfBits.ToFloat(scales[b]) * a.Scales[b];
                offset += HalfBits.ToFloat(mins[b]) * a.GroupSums[b];
            }
            return offset;
        }
        if (w.Bits == 4)
        {
            for (; b + 8 <= blocks; b += 8)
            {
                var d = HalfToFloat256(scales + b);
                (d * Vector256.Load(a.Scales + b)).Store(s + b);
                acc = Fma.MultiplyAdd(d, Vector256.Load(a.GroupQuantizedSums + b), acc);
            }
            var sum = Vector256.Sum(acc);
            for (; b < blocks; b++)
            {
                var d = HalfBits.ToFloat(scales[b]);
                s[b] = d * a.Scales[b];
                sum += d * a.GroupQuantizedSums[b];
            }
            return -8 * sum;
        }
        for (; b + 8 <= blocks; b += 8) (HalfToFloat256(scales + b) * Vector256.Load(a.Scales + b)).Store(s + b);
        for (; b < blocks; b++) s[b] = HalfBits.ToFloat(scales[b]) * a.Scales[b];
        return 0;
    }

    // ---------------------------------------------------------------- integer block dots (codes · int16 activations)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Q4Dot256(byte* codes, short* x, float* s, int blocks)
    {
        Vector256<float> a0 = default, a1 = default;
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            a0 = Fma.MultiplyAdd(Q4Block256(codes + b * 16, x + b * 32), Vector256.Create(s[b]), a0);
            a1 = Fma.MultiplyAdd(Q4Block256(codes + (b + 1) * 16, x + (b + 1) * 32), Vector256.Create(s[b + 1]), a1);
        }
        if (b < blocks) a0 = Fma.MultiplyAdd(Q4Block256(codes + b * 16, x + b * 32), Vector256.Create(s[b]), a0);
        return Vector256.Sum(a0 + a1);
    }

    /// <summary>
    /// Rows r..r+1 of int4 weights: <see cref="Q4Dot256"/> for two rows in one pass, each block's activations loaded once
    /// for both. Per row the same accumulators in the same order as <see cref="Q4Dot256"/>, so the same sums bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4Rows256x2(in WeightMatrix w, QuantizedActivations a, float* y, int r, bool accumulate)
    {
        var o0 = PrepareRow256(w, r, a, a.RowScales);
        var o1 = PrepareRow256(w, r + 1, a, a.RowScales1);
        byte* c0 = w.Data + (long)r * w.RowCodeBytes, c1 = c0 + w.RowCodeBytes;
        float* s0 = a.RowScales, s1 = a.RowScales1;
        var x = a.Values;
        var blocks = a.Blocks;
        Vector256<float> e0 = default, e1 = default, d0 = default, d1 = default; // e: even blocks, d: odd blocks
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            var xe = x + b * 32;
            Vector256<short> xl = Vector256.Load(xe), xh = Vector256.Load(xe + 16), yl = Vector256.Load(xe + 32), yh = Vector256.Load(xe + 48);
            e0 = Fma.MultiplyAdd(Q4Block256(c0 + b * 16, xl, xh), Vector256.Create(s0[b]), e0);
            e1 = Fma.MultiplyAdd(Q4Block256(c1 + b * 16, xl, xh), Vector256.Create(s1[b]), e1);
            d0 = Fma.MultiplyAdd(Q4Block256(c0 + b * 16 + 16, yl, yh), Vector256.Create(s0[b + 1]), d0);
            d1 = Fma.MultiplyAdd(Q4Block256(c1 + b * 16 + 16, yl, yh), Vector256.Create(s1[b + 1]), d1);
        }
        if (b < blocks)
        {
            Vector256<short> xl = Vector256.Load(x + b * 32), xh = Vector256.Load(x + b * 32 + 16);
            e0 = Fma.MultiplyAdd(Q4Block256(c0 + b * 16, xl, xh), Vector256.Create(s0[b]), e0);
            e1 = Fma.MultiplyAdd(Q4Block256(c1 + b * 16, xl, xh), Vector256.Create(s1[b]), e1);
        }
        Store(y + r, Vector256.Sum(e0 + d0) + o0, accumulate);
        Store(y + r + 1, Vector256.Sum(e1 + d1) + o1, accumulate);
    }

    /// <summary>
    /// Rows r..r+3 of int4 or int8 weights (<typeparamref name="TBlock"/>), as <see cref="Q4Rows256x2"/> for four rows:
    /// per row the same accumulators in the same order as the one-row dots, so the same sums bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows256x4<TBlock>(in WeightMatrix w, QuantizedActivations a, float* y, int r, bool accumulate)
        where TBlock : struct, IBlock256
    {
        var o0 = PrepareRow256(w, r, a, a.RowScales);
        var o1 = PrepareRow256(w, r + 1, a, a.RowScales1);
        var o2 = PrepareRow256(w, r + 2, a, a.RowScales2);
        var o3 = PrepareRow256(w, r + 3, a, a.RowScales3);
        var stride = w.RowCodeBytes;
        byte* c0 = w.Data + (long)r * stride, c1 = c0 + stride, c2 = c1 + stride, c3 = c2 + stride;
        float* s0 = a.RowScales, s1 = a.RowScales1, s2 = a.RowScales2, s3 = a.RowScales3;
        var x = a.Values;
        var blocks = a.Blocks;
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        var ahead = (long)PrefetchRows * stride;
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            var xe = x + b * 32;
            Vector256<short> xl = Vector256.Load(xe), xh = Vector256.Load(xe + 16);
            var cb = b * TBlock.Bytes;
            if ((b & 3) == 0 && ahead != 0) PrefetchAhead(c0 + ahead, 4 * cb, 4 * TBlock.Bytes);
            e0 = Fma.MultiplyAdd(TBlock.Dot(c0 + cb, xl, xh), Vector256.Create(s0[b]), e0);
            e1 = Fma.MultiplyAdd(TBlock.Dot(c1 + cb, xl, xh), Vector256.Create(s1[b]), e1);
            e2 = Fma.MultiplyAdd(TBlock.Dot(c2 + cb, xl, xh), Vector256.Create(s2[b]), e2);
            e3 = Fma.MultiplyAdd(TBlock.Dot(c3 + cb, xl, xh), Vector256.Create(s3[b]), e3);
            xl = Vector256.Load(xe + 32);
            xh = Vector256.Load(xe + 48);
            d0 = Fma.MultiplyAdd(TBlock.Dot(c0 + cb + TBlock.Bytes, xl, xh), Vector256.Create(s0[b + 1]), d0);
            d1 = Fma.MultiplyAdd(TBlock.Dot(c1 + cb + TBlock.Bytes, xl, xh), Vector256.Create(s1[b + 1]), d1);
            d2 = Fma.MultiplyAdd(TBlock.Dot(c2 + cb + TBlock.Bytes, xl, xh), Vector256.Create(s2[b + 1]), d2);
            d3 = Fma.MultiplyAdd(TBlock.Dot(c3 + cb + TBlock.Bytes, xl, xh), Vector256.Create(s3[b + 1]), d3);
        }
        if (b < blocks)
        {
            Vector256<short> xl = Vector256.Load(x + b * 32), xh = Vector256.Load(x + b * 32 + 16);
            var cb = b * TBlock.Bytes;
            e0 = Fma.MultiplyAdd(TBlock.Dot(c0 + cb, xl, xh), Vector256.Create(s0[b]), e0);
            e1 = Fma.MultiplyAdd(TBlock.Dot(c1 + cb, xl, xh), Vector256.Create(s1[b]), e1);
            e2 = Fma.MultiplyAdd(TBlock.Dot(c2 + cb, xl, xh), Vector256.Create(s2[b]), e2);
            e3 = Fma.MultiplyAdd(TBlock.Dot(c3 + cb, xl, xh), Vector256.Create(s3[b]), e3);
        }
        Store(y + r, Vector256.Sum(e0 + d0) + o0, accumulate);
        Store(y + r + 1, Vector256.Sum(e1 + d1) + o1, accumulate);
        Store(y + r + 2, Vector256.Sum(e2 + d2) + o2, accumulate);
        Store(y + r + 3, Vector256.Sum(e3 + d3) + o3, accumulate);
    }

    /// <summary>
    /// The 4-row kernels' prefetch (<see cref="PrefetchRows"/>): the 4·<paramref name="rowBytes"/> bytes at
    /// <paramref name="rowsAhead"/> + <paramref name="offset"/>. Called each time a step has consumed <paramref name="rowBytes"/>
    /// more bytes of each of its 4 rows, with <paramref name="offset"/> = 4 × the bytes per row consumed so far, it
    /// prefetches the 4 rows starting at <paramref name="rowsAhead"/> exactly once over the step, in address order: one
    /// forward stream.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchAhead(void* rowsAhead, long offset, int rowBytes)
    {
        var p = (byte*)rowsAhead + offset;
        for (var line = 0; line < 4 * rowBytes; line += 64) Sse.Prefetch0(p + line);
    }

    /// <summary>One block's integer dot product with 32 int16 activations already loaded (codes 0..15, 16..31), as 8 fp32 partial sums.</summary>
    private interface IBlock256
    {
        /// <summary>Code bytes per 32-value block.</summary>
        static abstract int Bytes { get; }

        static abstract Vector256<float> Dot(byte* codes, Vector256<short> low, Vector256<short> high);
    }

    private struct Int4Block : IBlock256
    {
        public static int Bytes => 16;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Dot(byte* codes, Vector256<short> low, Vector256<short> high) => Q4Block256(codes, low, high);
    }

    private struct Int8Block : IBlock256
    {
        public static int Bytes => 32;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Dot(byte* codes, Vector256<short> low, Vector256<short> high) => Q8Block256((sbyte*)codes, low, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, float sum, bool accumulate)
    {
        if (accumulate) *y += sum;
        else *y = sum;
    }

    /// <summary>
    /// One int4 block (16 bytes: codes 0..15 low, 16..31 high) · 32 int16 activations, as 8 int32 partial sums converted
    /// to fp32. The bytes are zero-extended to int16 first (<c>vpmovzxbw</c> from memory), so the high nibble is a plain
    /// 16-bit shift right by 4 and the low one an AND.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4Block256(byte* codes, short* x) => Q4Block256(codes, Vector256.Load(x), Vector256.Load(x + 16));

    /// <summary><see cref="Q4Block256(byte*, short*)"/> with the block's activations already loaded (codes 0..15, 16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4Block256(byte* codes, Vector256<short> low, Vector256<short> high)
    {
        var v = Avx2.ConvertToVector256Int16(codes);
        var sums = Avx2.MultiplyAddAdjacent(v & Vector256.Create((short)0x0F), low)
            + Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(v, 4), high);
        return Avx.ConvertToVector256Single(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Q8Dot256(byte* codes, short* x, float* s, int blocks)
    {
        Vector256<float> a0 = default, a1 = default;
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            a0 = Fma.MultiplyAdd(Q8Block256((sbyte*)codes + b * 32, x + b * 32), Vector256.Create(s[b]), a0);
            a1 = Fma.MultiplyAdd(Q8Block256((sbyte*)codes + (b + 1) * 32, x + (b + 1) * 32), Vector256.Create(s[b + 1]), a1);
        }
        if (b < blocks) a0 = Fma.MultiplyAdd(Q8Block256((sbyte*)codes + b * 32, x + b * 32), Vector256.Create(s[b]), a0);
        return Vector256.Sum(a0 + a1);
    }

    /// <summary>One int8 block · 32 int16 activations (|sum| ≤ 32·127·32767 fits int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q8Block256(sbyte* codes, short* x) => Q8Block256(codes, Vector256.Load(x), Vector256.Load(x + 16));

    /// <summary><see cref="Q8Block256(sbyte*, short*)"/> with the block's activations already loaded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q8Block256(sbyte* codes, Vector256<short> low, Vector256<short> high)
    {
        var sums = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(codes), low)
            + Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(codes + 16), high);
        return Avx.ConvertToVector256Single(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Q4Dot512(byte* codes, short* x, float* s, int blocks)
    {
        Vector512<float> a0 = default, a1 = default;
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            a0 = Avx512F.FusedMultiplyAdd(Q4Block512(codes + b * 16, x + b * 32), Vector512.Create(s[b]), a0);
            a1 = Avx512F.FusedMultiplyAdd(Q4Block512(codes + (b + 1) * 16, x + (b + 1) * 32), Vector512.Create(s[b + 1]), a1);
        }
        if (b < blocks) a0 = Avx512F.FusedMultiplyAdd(Q4Block512(codes + b * 16, x + b * 32), Vector512.Create(s[b]), a0);
        return Vector512.Sum(a0 + a1);
    }

    /// <summary>One int4 block: its 16 bytes zero-extended to int16, [low nibbles | high nibbles] = the 32 codes in order, one <c>vpmaddwd</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Q4Block512(byte* codes, short* x)
    {
        var v = Avx2.ConvertToVector256Int16(codes);
        var q = Vector512.Create(v & Vector256.Create((short)0x0F), Avx2.ShiftRightLogical(v, 4));
        return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(q, Vector512.Load(x)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Q8Dot512(byte* codes, short* x, float* s, int blocks)
    {
        Vector512<float> a0 = default, a1 = default;
        var b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            a0 = Avx512F.FusedMultiplyAdd(Q8Block512((sbyte*)codes + b * 32, x + b * 32), Vector512.Create(s[b]), a0);
            a1 = Avx512F.FusedMultiplyAdd(Q8Block512((sbyte*)codes + (b + 1) * 32, x + (b + 1) * 32), Vector512.Create(s[b + 1]), a1);
        }
        if (b < blocks) a0 = Avx512F.FusedMultiplyAdd(Q8Block512((sbyte*)codes + b * 32, x + b * 32), Vector512.Create(s[b]), a0);
        return Vector512.Sum(a0 + a1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Q8Block512(sbyte* codes, short* x)
        => Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(codes)), Vector512.Load(x)));

    // ---------------------------------------------------------------- fp16 (fp32 activations)

    /// <summary>16 fp16 values to fp32: rebias the exponent by multiplying the shifted magnitude with 2^112, then restore the sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToFloat512(ushort* p)
    {
        var h = Avx512F.ConvertToVector512UInt32(Vector256.Load(p));
        var magnitude = Vector512.ShiftLeft(h & Vector512.Create(0x7fffu), 13).AsSingle() * Vector512.Create(5.192296858534828e+33f);
        return (magnitude.AsUInt32() | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void F16Rows512(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        int cols = w.Cols, blockCols = cols - cols % 32, vectorCols = cols - cols % 16;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = (ushort*)w.Data + (long)r * cols;
            Vector512<float> a0 = default, a1 = default;
            var c = 0;
            for (; c < blockCols; c += 32)
            {
                a0 = Vector512.FusedMultiplyAdd(HalfToFloat512(row + c), Vector512.Load(x + c), a0);
                a1 = Vector512.FusedMultiplyAdd(HalfToFloat512(row + c + 16), Vector512.Load(x + c + 16), a1);
            }
            for (; c < vectorCols; c += 16) a0 = Vector512.FusedMultiplyAdd(HalfToFloat512(row + c), Vector512.Load(x + c), a0);
            var sum = Vector512.Sum(a0 + a1);
            for (; c < cols; c++) sum += HalfBits.ToFloat(row[c]) * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    /// <summary>8 fp16 values to fp32 (see <see cref="HalfToFloat512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfToFloat256(ushort* p)
    {
        var h = Avx2.ConvertToVector256Int32(p).AsUInt32();
        var magnitude = Vector256.ShiftLeft(h & Vector256.Create(0x7fffu), 13).AsSingle() * Vector256.Create(5.192296858534828e+33f);
        return (magnitude.AsUInt32() | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void F16Rows256(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        int cols = w.Cols, blockCols = cols - cols % 16, vectorCols = cols - cols % 8;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = (ushort*)w.Data + (long)r * cols;
            Vector256<float> a0 = default, a1 = default;
            var c = 0;
            for (; c < blockCols; c += 16)
            {
                a0 = Vector256.FusedMultiplyAdd(HalfToFloat256(row + c), Vector256.Load(x + c), a0);
                a1 = Vector256.FusedMultiplyAdd(HalfToFloat256(row + c + 8), Vector256.Load(x + c + 8), a1);
            }
            for (; c < vectorCols; c += 8) a0 = Vector256.FusedMultiplyAdd(HalfToFloat256(row + c), Vector256.Load(x + c), a0);
            var sum = Vector256.Sum(a0 + a1);
            for (; c < cols; c++) sum += HalfBits.ToFloat(row[c]) * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }
}
