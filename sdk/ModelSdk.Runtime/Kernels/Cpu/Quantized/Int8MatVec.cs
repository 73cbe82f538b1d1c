using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// W8A8 matrix-vector product (SmoothQuant) over a range of rows, <c>y[r] (+)= d_w[r] · d_x · Σ_c q_w[r,c] · q_x[c]</c>:
/// int8 weights with one fp16 scale per row (<see cref="Tensors.TensorFormat.PerRow"/>) against int8 activations with
/// one scale per token (<see cref="Int8Activations"/>). The whole row's dot product is one exact int32 sum (|Σ| ≤
/// cols · 127², no overflow below 133,000 columns), converted to fp32 once and scaled once — no per-block float work.
/// <para>
/// Paths: AVX-512BW (<see cref="VectorWidth.V512"/>: 32 weights and 32 activations sign-extended to int16,
/// <c>vpmaddwd</c> into 16 int32 lanes), AVX2 (<see cref="VectorWidth.V256"/>: ggml's trick on 32 bytes, |w| as unsigned
/// and x with w's sign, <c>vpmaddubsw</c> — pairs of at most 2·127² cannot saturate int16 — then <c>vpmaddwd</c> by
/// ones into int32). Both give the same integers, so every path equals the scalar reference
/// <see cref="Int8MatVecReference"/> exactly. (.NET 10 exposes no AVX-512 VNNI u8·s8 instruction, and the development VM
/// reports no AVX-VNNI.)
/// </para>
/// </summary>
internal static unsafe class Int8MatVec
{
    /// <summary>
    /// Whether <see cref="VectorWidth.V512"/> runs the 512-bit kernel. Off: on the Zen 4 development VM (512-bit operations
    /// issued as two 256-bit halves) the AVX2 kernel, with fewer operations per value, was faster on a 5632×2048 matrix in
    /// both runs of the benchmark's <c>--formats</c> rows (one core, heavily loaded VM: 10.4 vs 9.0 and 7.0 vs 4.2
    /// Gweights/s); on the 32000×288 classifier the two runs disagreed (7.4 vs 3.9, 9.5 vs 11.1). Tests run both.
    /// </summary>
    internal static bool Uses512 { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate, VectorWidth width)
    {
        if (rowStart >= rowEnd) return;
        var a = Int8Activations.For(x, w.Cols);
        var simd = width switch
        {
            VectorWidth.V512 when Avx512BW.IsSupported && Uses512 => 512,
            VectorWidth.V512 or VectorWidth.V256 when Avx2.IsSupported => 256,
            _ => 0,
        };
        if (simd == 0)
        {
            Int8MatVecReference.Rows(w, a, y, rowStart, rowEnd, accumulate);
            return;
        }
        var xq = a.Values;
        var cols = w.Cols;
        var r = rowStart;
        if (simd == 256 && QuantizedMatVec.RowsPerStep >= 4)
            for (; r + 4 <= rowEnd; r += 4)
            {
                var dots = Dot256x4((sbyte*)w.Data + (long)r * w.RowCodeBytes, w.RowCodeBytes, xq, cols);
                for (var i = 0; i < 4; i++)
                {
                    var sum = dots[i] * (HalfBits.ToFloat(w.Scales[r + i]) * a.Scale);
                    if (accumulate) y[r + i] += sum;
                    else y[r + i] = sum;
                }
            }
        for (; r < rowEnd; r++)
        {
            var codes = (sbyte*)w.Data + (long)r * w.RowCodeBytes;
            var dot = simd == 512 ? Dot512(codes, xq, cols) : Dot256(codes, xq, cols);
            var sum = dot * (HalfBits.ToFloat(w.Scales[r]) * a.Scale);
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    /// <summary>Σ w·x over <paramref name="cols"/> (a multiple of 32) int8 pairs, in int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Dot256(sbyte* w, sbyte* x, int cols)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default;
        var c = 0;
        for (; c + 64 <= cols; c += 64)
        {
            a0 += Block256(Vector256.Load(w + c), Vector256.Load(x + c), ones);
            a1 += Block256(Vector256.Load(w + c + 32), Vector256.Load(x + c + 32), ones);
        }
        if (c < cols) a0 += Block256(Vector256.Load(w + c), Vector256.Load(x + c), ones);
        return Vector256.Sum(a0 + a1);
    }

    /// <summary>
    /// <see cref="Dot256"/> for 4 consecutive rows in one pass, each activation vector loaded once for all 4, prefetching
    /// the rows <see cref="QuantizedMatVec.PrefetchRows"/> ahead in address order (as the int4/int8 kernels do). Integer
    /// sums, so the same results as one row at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot256x4(sbyte* w0, int stride, sbyte* x, int cols)
    {
        var ones = Vector256.Create((short)1);
        sbyte* w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
        var ahead = (long)QuantizedMatVec.PrefetchRows * stride;
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var c = 0; c < cols; c += 32)
        {
            if ((c & 63) == 0 && ahead != 0) QuantizedMatVec.PrefetchAhead(w0 + ahead, 4 * c, 64);
            var xv = Vector256.Load(x + c);
            a0 += Block256(Vector256.Load(w0 + c), xv, ones);
            a1 += Block256(Vector256.Load(w1 + c), xv, ones);
            a2 += Block256(Vector256.Load(w2 + c), xv, ones);
            a3 += Block256(Vector256.Load(w3 + c), xv, ones);
        }
        return Vector128.Create(Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block256(Vector256<sbyte> w, Vector256<sbyte> x, Vector256<short> ones)
        => Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(x, w)), ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Dot512(sbyte* w, sbyte* x, int cols)
    {
        Vector512<int> a0 = default, a1 = default;
        var c = 0;
        for (; c + 64 <= cols; c += 64)
        {
            a0 += Block512(w + c, x + c);
            a1 += Block512(w + c + 32, x + c + 32);
        }
        if (c < cols) a0 += Block512(w + c, x + c);
        return Vector512.Sum(a0 + a1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Block512(sbyte* w, sbyte* x)
        => Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(w)), Avx512BW.ConvertToVector512Int16(Vector256.Load(x)));
}
