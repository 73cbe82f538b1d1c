using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// The batched form of <see cref="MatVec"/> for prompt processing: <c>y[t·ldy + r] = W[r,:] · x[t·ldx ..]</c> (or +=) for a
/// range of rows and <paramref name="tokens"/> input vectors. Each weight row is read from memory once for the whole
/// batch and kept in registers/L1 while it meets the inputs a tile of tokens at a time (4 tokens with AVX-512's 32
/// registers, 2 with AVX2's 16), so prefill is compute-bound rather than reading every weight once per prompt token.
/// Per (row, token) the sum is accumulated in exactly <see cref="MatVec"/>'s order (four accumulators over 4-vector
/// blocks, then single vectors, then a scalar tail), so a prompt processed in a batch gives bit-identical activations.
/// Reference: <see cref="Reference.MatVecReference"/> per token.
/// </summary>
internal static unsafe class MatMat
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(float* w, float* x, int ldx, float* y, int ldy, int cols, int rowStart, int rowEnd, int tokens,
        bool accumulate, VectorWidth width)
    {
        var t = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (; t + 4 <= tokens; t += 4) Tile512x4(w, x + (long)t * ldx, ldx, y + (long)t * ldy, ldy, cols, rowStart, rowEnd, accumulate);
                break;
            case VectorWidth.V256:
                for (; t + 2 <= tokens; t += 2) Tile256x2(w, x + (long)t * ldx, ldx, y + (long)t * ldy, ldy, cols, rowStart, rowEnd, accumulate);
                break;
        }
        for (; t < tokens; t++) MatVec.Rows(w, x + (long)t * ldx, y + (long)t * ldy, cols, rowStart, rowEnd, accumulate, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, float value, bool accumulate)
    {
        if (accumulate) *y += value;
        else *y = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512x4(float* w, float* x, int ldx, float* y, int ldy, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        const int n = 16;
        int blockCols = cols - cols % (4 * n), vectorCols = cols - cols % n;
        float* x0 = x, x1 = x + ldx, x2 = x + 2L * ldx, x3 = x + 3L * ldx;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default; // token 0
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default; // token 1
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default; // token 2
            Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default; // token 3
            var c = 0;
            for (; c < blockCols; c += 4 * n)
            {
                var w0 = Vector512.Load(row + c);
                var w1 = Vector512.Load(row + c + n);
                var w2 = Vector512.Load(row + c + 2 * n);
                var w3 = Vector512.Load(row + c + 3 * n);
                a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x0 + c), a0);
                a1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x0 + c + n), a1);
                a2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x0 + c + 2 * n), a2);
                a3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x0 + c + 3 * n), a3);
                b0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x1 + c), b0);
                b1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x1 + c + n), b1);
                b2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x1 + c + 2 * n), b2);
                b3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x1 + c + 3 * n), b3);
                c0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x2 + c), c0);
                c1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x2 + c + n), c1);
                c2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x2 + c + 2 * n), c2);
                c3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x2 + c + 3 * n), c3);
                d0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x3 + c), d0);
                d1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x3 + c + n), d1);
                d2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x3 + c + 2 * n), d2);
                d3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x3 + c + 3 * n), d3);
            }
            for (; c < vectorCols; c += n)
            {
                var w0 = Vector512.Load(row + c);
                a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x0 + c), a0);
                b0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x1 + c), b0);
                c0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x2 + c), c0);
                d0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x3 + c), d0);
            }
            float sa = Vector512.Sum((a0 + a1) + (a2 + a3)), sb = Vector512.Sum((b0 + b1) + (b2 + b3));
            float sc = Vector512.Sum((c0 + c1) + (c2 + c3)), sd = Vector512.Sum((d0 + d1) + (d2 + d3));
            for (; c < cols; c++)
            {
                sa += row[c] * x0[c];
                sb += row[c] * x1[c];
                sc += row[c] * x2[c];
                sd += row[c] * x3[c];
            }
            Store(y + r, sa, accumulate);
            Store(y + ldy + r, sb, accumulate);
            Store(y + 2L * ldy + r, sc, accumulate);
            Store(y + 3L * ldy + r, sd, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256x2(float* w, float* x, int ldx, float* y, int ldy, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        const int n = 8;
        int blockCols = cols - cols % (4 * n), vectorCols = cols - cols % n;
        float* x0 = x, x1 = x + ldx;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var c = 0;
            for (; c < blockCols; c += 4 * n)
            {
                var w0 = Vector256.Load(row + c);
                var w1 = Vector256.Load(row + c + n);
                var w2 = Vector256.Load(row + c + 2 * n);
                var w3 = Vector256.Load(row + c + 3 * n);
                a0 = Vector256.FusedMultiplyAdd(w0, Vector256.Load(x0 + c), a0);
                a1 = Vector256.FusedMultiplyAdd(w1, Vector256.Load(x0 + c + n), a1);
                a2 = Vector256.FusedMultiplyAdd(w2, Vector256.Load(x0 + c + 2 * n), a2);
                a3 = Vector256.FusedMultiplyAdd(w3, Vector256.Load(x0 + c + 3 * n), a3);
                b0 = Vector256.FusedMultiplyAdd(w0, Vector256.Load(x1 + c), b0);
                b1 = Vector256.FusedMultiplyAdd(w1, Vector256.Load(x1 + c + n), b1);
                b2 = Vector256.FusedMultiplyAdd(w2, Vector256.Load(x1 + c + 2 * n), b2);
                b3 = Vector256.FusedMultiplyAdd(w3, Vector256.Load(x1 + c + 3 * n), b3);
            }
            for (; c < vectorCols; c += n)
            {
                var w0 = Vector256.Load(row + c);
                a0 = Vector256.FusedMultiplyAdd(w0, Vector256.Load(x0 + c), a0);
                b0 = Vector256.FusedMultiplyAdd(w0, Vector256.Load(x1 + c), b0);
            }
            float sa = Vector256.Sum((a0 + a1) + (a2 + a3)), sb = Vector256.Sum((b0 + b1) + (b2 + b3));
            for (; c < cols; c++)
            {
                sa += row[c] * x0[c];
                sb += row[c] * x1[c];
            }
            Store(y + r, sa, accumulate);
            Store(y + ldy + r, sb, accumulate);
        }
    }
}
