using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Compression.LinearAlgebra;

/// <summary>
/// Single-precision matrix product for calibration work (activations × weights, activation Gram matrices), one thread:
/// callers parallelize over independent chunks. <c>C[i, j] (+)= Σ_k A(i, k) · B[k, j]</c> with A read through strides
/// (so Aᵀ costs nothing) and B, C row-major. Register tiles of 4 rows × 2 vectors, broadcasting A and streaming B:
/// no horizontal sums, no packing. Vector512 where the hardware has it, else Vector256, else scalar.
/// </summary>
public static unsafe class Gemm
{
    /// <param name="a">A(i, k) = a[i · aRowStride + k · aColumnStride].</param>
    /// <param name="upperOnly">Skip register tiles that lie wholly below the diagonal (for symmetric results; i ≤ j entries are exact).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, int aRowStride, int aColumnStride, float* b, int ldb, float* c, int ldc,
        int m, int n, int k, bool accumulate, bool upperOnly = false)
    {
        if (Vector512.IsHardwareAccelerated) Run<V512, Vector512<float>>(a, aRowStride, aColumnStride, b, ldb, c, ldc, m, n, k, accumulate, upperOnly);
        else if (Vector256.IsHardwareAccelerated) Run<V256, Vector256<float>>(a, aRowStride, aColumnStride, b, ldb, c, ldc, m, n, k, accumulate, upperOnly);
        else Scalar(a, aRowStride, aColumnStride, b, ldb, c, ldc, 0, m, 0, n, k, accumulate);
    }

    /// <summary>The plain triple loop the vector path is tested against.</summary>
    public static void Scalar(float* a, int aRowStride, int aColumnStride, float* b, int ldb, float* c, int ldc,
        int rowStart, int rowEnd, int columnStart, int columnEnd, int k, bool accumulate)
    {
        for (var i = rowStart; i < rowEnd; i++)
        {
            for (var j = columnStart; j < columnEnd; j++)
            {
                float sum = accumulate ? c[(long)i * ldc + j] : 0f;
                for (var p = 0; p < k; p++) sum += a[(long)i * aRowStride + (long)p * aColumnStride] * b[(long)p * ldb + j];
                c[(long)i * ldc + j] = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TS, TV>(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate, bool upperOnly)
        where TS : struct, ISimd<TV> where TV : struct
    {
        var w = TS.Count;
        var j0 = 0;
        for (; j0 + 2 * w <= n; j0 += 2 * w)
        {
            var i0 = 0;
            for (; i0 + 4 <= m; i0 += 4)
            {
                if (upperOnly && j0 + 2 * w <= i0) continue;
                Tile4x2<TS, TV>(a + (long)i0 * aRow, aRow, aCol, b + j0, ldb, c + (long)i0 * ldc + j0, ldc, k, accumulate);
            }
            for (; i0 < m; i0++)
            {
                if (upperOnly && j0 + 2 * w <= i0) continue;
                Tile1x1<TS, TV>(a + (long)i0 * aRow, aCol, b + j0, ldb, c + (long)i0 * ldc + j0, k, accumulate);
                Tile1x1<TS, TV>(a + (long)i0 * aRow, aCol, b + j0 + w, ldb, c + (long)i0 * ldc + j0 + w, k, accumulate);
            }
        }
        for (; j0 + w <= n; j0 += w)
        {
            for (var i0 = 0; i0 < m; i0++)
            {
                if (upperOnly && j0 + w <= i0) continue;
                Tile1x1<TS, TV>(a + (long)i0 * aRow, aCol, b + j0, ldb, c + (long)i0 * ldc + j0, k, accumulate);
            }
        }
        if (j0 < n) Scalar(a, aRow, aCol, b, ldb, c, ldc, 0, m, j0, n, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x2<TS, TV>(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        var w = TS.Count;
        TV c00 = TS.Zero, c01 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c20 = TS.Zero, c21 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero;
        float* a0 = a, a1 = a + aRow, a2 = a + 2L * aRow, a3 = a + 3L * aRow;
        for (var p = 0; p < k; p++)
        {
            var bp = b + (long)p * ldb;
            var b0 = TS.Load(bp);
            var b1 = TS.Load(bp + w);
            long at = (long)p * aCol;
            var x = TS.Broadcast(a0[at]);
            c00 = TS.Fma(x, b0, c00); c01 = TS.Fma(x, b1, c01);
            x = TS.Broadcast(a1[at]);
            c10 = TS.Fma(x, b0, c10); c11 = TS.Fma(x, b1, c11);
            x = TS.Broadcast(a2[at]);
            c20 = TS.Fma(x, b0, c20); c21 = TS.Fma(x, b1, c21);
            x = TS.Broadcast(a3[at]);
            c30 = TS.Fma(x, b0, c30); c31 = TS.Fma(x, b1, c31);
        }
        Put<TS, TV>(c, c00, accumulate); Put<TS, TV>(c + w, c01, accumulate);
        Put<TS, TV>(c + ldc, c10, accumulate); Put<TS, TV>(c + ldc + w, c11, accumulate);
        Put<TS, TV>(c + 2L * ldc, c20, accumulate); Put<TS, TV>(c + 2L * ldc + w, c21, accumulate);
        Put<TS, TV>(c + 3L * ldc, c30, accumulate); Put<TS, TV>(c + 3L * ldc + w, c31, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x1<TS, TV>(float* a, int aCol, float* b, int ldb, float* c, int k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        TV acc0 = TS.Zero, acc1 = TS.Zero;
        var p = 0;
        for (; p + 1 < k; p += 2)
        {
            acc0 = TS.Fma(TS.Broadcast(a[(long)p * aCol]), TS.Load(b + (long)p * ldb), acc0);
            acc1 = TS.Fma(TS.Broadcast(a[(long)(p + 1) * aCol]), TS.Load(b + (long)(p + 1) * ldb), acc1);
        }
        if (p < k) acc0 = TS.Fma(TS.Broadcast(a[(long)p * aCol]), TS.Load(b + (long)p * ldb), acc0);
        Put<TS, TV>(c, TS.Add(acc0, acc1), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TS, TV>(float* c, TV value, bool accumulate) where TS : struct, ISimd<TV> where TV : struct
        => TS.Store(c, accumulate ? TS.Add(TS.Load(c), value) : value);

    private interface ISimd<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Zero { get; }
        static abstract TV Load(float* p);
        static abstract void Store(float* p, TV v);
        static abstract TV Broadcast(float x);
        static abstract TV Fma(TV x, TV y, TV add);
        static abstract TV Add(TV x, TV y);
    }

    private readonly struct V512 : ISimd<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;
        public static Vector512<float> Zero => Vector512<float>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> x, Vector512<float> y, Vector512<float> add) => Vector512.FusedMultiplyAdd(x, y, add);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;
    }

    private readonly struct V256 : ISimd<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;
        public static Vector256<float> Zero => Vector256<float>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> x, Vector256<float> y, Vector256<float> add) => Vector256.FusedMultiplyAdd(x, y, add);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;
    }
}
