using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// Causal attention of one query head over the KV cache (decode: one query position):
/// <c>scores[t] = q·k_t / sqrt(headSize)</c> for t ≤ pos, softmax, <c>out = Σ scores[t]·v_t</c>.
/// <paramref name="keys"/>/<paramref name="values"/> point at this head's slice of cache row 0; rows are
/// <paramref name="rowStride"/> floats apart (the KV dim). Grouped-query attention is the caller's choice of slice.
/// Reference: <see cref="Reference.AttentionReference"/>.
/// </summary>
internal static unsafe class Attention
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Head(float* q, float* keys, float* values, int rowStride, int headSize, int positions,
        float* scores, float* output, VectorWidth width)
    {
        var scale = MathF.Sqrt(headSize);
        for (var t = 0; t < positions; t++)
            scores[t] = Dot(q, keys + (long)t * rowStride, headSize, width) / scale;
        Softmax.Apply(scores, positions, width);
        new Span<float>(output, headSize).Clear();
        for (var t = 0; t < positions; t++)
            Axpy(output, scores[t], values + (long)t * rowStride, headSize, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int n, VectorWidth width)
    {
        var i = 0;
        float sum = 0;
        switch (width)
        {
            case VectorWidth.V512 when n >= 16:
            {
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
                sum = Vector512.Sum(acc);
                break;
            }
            case VectorWidth.V512:
            case VectorWidth.V256:
            {
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
                sum = Vector256.Sum(acc);
                break;
            }
            case VectorWidth.V128:
            {
                var acc = Vector128<float>.Zero;
                for (; i + 4 <= n; i += 4) acc = Vector128.FusedMultiplyAdd(Vector128.Load(a + i), Vector128.Load(b + i), acc);
                sum = Vector128.Sum(acc);
                break;
            }
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(float* y, float a, float* x, int n, VectorWidth width)
    {
        var i = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (var va = Vector512.Create(a); i + 16 <= n; i += 16)
                    Vector512.FusedMultiplyAdd(va, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
                goto case VectorWidth.V256;
            case VectorWidth.V256:
                for (var va = Vector256.Create(a); i + 8 <= n; i += 8)
                    Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
                break;
            case VectorWidth.V128:
                for (var va = Vector128.Create(a); i + 4 <= n; i += 4)
                    Vector128.FusedMultiplyAdd(va, Vector128.Load(x + i), Vector128.Load(y + i)).Store(y + i);
                break;
        }
        for (; i < n; i++) y[i] += a * x[i];
    }
}
