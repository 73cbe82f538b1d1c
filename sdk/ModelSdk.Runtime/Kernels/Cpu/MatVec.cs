using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// Matrix-vector product over a range of rows: <c>y[r] = W[r,:] · x</c> (or <c>y[r] += ...</c> to fuse a residual add),
/// W row-major (out × in) fp32. Callers split the rows across threads (<see cref="Threading.WorkerTeam"/>).
/// <para>
/// Decode is memory-bound, so the kernel is shaped for the memory system rather than for the FMA units: it walks the
/// weights strictly sequentially, one row after another, with four independent FMA accumulators per row (unrolled
/// by four vectors) so the FMA latency never limits it. Interleaving four rows to share the loads of x — the classic
/// register-blocking trick — was measured here and rejected: on stories15M's 288-float (1152-byte) rows the four
/// interleaved short streams defeat the L2 stream prefetcher and the 32000×288 classifier ran at 10 GB/s instead of
/// 25 GB/s on one Zen 4 core; x stays in L1 either way.
/// </para>
/// Reference: <see cref="Reference.MatVecReference"/>.
/// </summary>
internal static unsafe class MatVec
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(float* w, float* x, float* y, int cols, int rowStart, int rowEnd, bool accumulate, VectorWidth width)
    {
        switch (width)
        {
            case VectorWidth.V512: Rows512(w, x, y, cols, rowStart, rowEnd, accumulate); break;
            case VectorWidth.V256: Rows256(w, x, y, cols, rowStart, rowEnd, accumulate); break;
            case VectorWidth.V128: Rows128(w, x, y, cols, rowStart, rowEnd, accumulate); break;
            default: Reference.MatVecReference.Rows(w, x, y, cols, rowStart, rowEnd, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows512(float* w, float* x, float* y, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        const int n = 16;
        int blockCols = cols - cols % (4 * n), vectorCols = cols - cols % n;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var c = 0;
            for (; c < blockCols; c += 4 * n)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(row + c), Vector512.Load(x + c), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(row + c + n), Vector512.Load(x + c + n), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(row + c + 2 * n), Vector512.Load(x + c + 2 * n), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(row + c + 3 * n), Vector512.Load(x + c + 3 * n), a3);
            }
            for (; c < vectorCols; c += n)
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(row + c), Vector512.Load(x + c), a0);
            var sum = Vector512.Sum((a0 + a1) + (a2 + a3));
            for (; c < cols; c++) sum += row[c] * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows256(float* w, float* x, float* y, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        const int n = 8;
        int blockCols = cols - cols % (4 * n), vectorCols = cols - cols % n;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var c = 0;
            for (; c < blockCols; c += 4 * n)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(row + c), Vector256.Load(x + c), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + c + n), Vector256.Load(x + c + n), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(row + c + 2 * n), Vector256.Load(x + c + 2 * n), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(row + c + 3 * n), Vector256.Load(x + c + 3 * n), a3);
            }
            for (; c < vectorCols; c += n)
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(row + c), Vector256.Load(x + c), a0);
            var sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; c < cols; c++) sum += row[c] * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows128(float* w, float* x, float* y, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        const int n = 4;
        int blockCols = cols - cols % (4 * n), vectorCols = cols - cols % n;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var c = 0;
            for (; c < blockCols; c += 4 * n)
            {
                a0 = Vector128.FusedMultiplyAdd(Vector128.Load(row + c), Vector128.Load(x + c), a0);
                a1 = Vector128.FusedMultiplyAdd(Vector128.Load(row + c + n), Vector128.Load(x + c + n), a1);
                a2 = Vector128.FusedMultiplyAdd(Vector128.Load(row + c + 2 * n), Vector128.Load(x + c + 2 * n), a2);
                a3 = Vector128.FusedMultiplyAdd(Vector128.Load(row + c + 3 * n), Vector128.Load(x + c + 3 * n), a3);
            }
            for (; c < vectorCols; c += n)
                a0 = Vector128.FusedMultiplyAdd(Vector128.Load(row + c), Vector128.Load(x + c), a0);
            var sum = Vector128.Sum((a0 + a1) + (a2 + a3));
            for (; c < cols; c++) sum += row[c] * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }
}
