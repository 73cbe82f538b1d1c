using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// In-place softmax: subtract the maximum, exponentiate (vectorized <c>Exp</c>), divide by the sum.
/// Reference: <see cref="Reference.SoftmaxReference"/>.
/// </summary>
internal static unsafe class Softmax
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float* x, int size, VectorWidth width)
    {
        if (size <= 0) return;
        var max = Max(x, size, width);
        float sum = 0;
        var i = 0;
        switch (width)
        {
            case VectorWidth.V512:
            {
                var m = Vector512.Create(max);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= size; i += 16)
                {
                    var e = Vector512.Exp(Vector512.Load(x + i) - m);
                    e.Store(x + i);
                    acc += e;
                }
                sum = Vector512.Sum(acc);
                break;
            }
            case VectorWidth.V256:
            {
                var m = Vector256.Create(max);
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= size; i += 8)
                {
                    var e = Vector256.Exp(Vector256.Load(x + i) - m);
                    e.Store(x + i);
                    acc += e;
                }
                sum = Vector256.Sum(acc);
                break;
            }
            case VectorWidth.V128:
            {
                var m = Vector128.Create(max);
                var acc = Vector128<float>.Zero;
                for (; i + 4 <= size; i += 4)
                {
                    var e = Vector128.Exp(Vector128.Load(x + i) - m);
                    e.Store(x + i);
                    acc += e;
                }
                sum = Vector128.Sum(acc);
                break;
            }
        }
        for (; i < size; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }

        i = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (var s = Vector512.Create(sum); i + 16 <= size; i += 16) (Vector512.Load(x + i) / s).Store(x + i);
                break;
            case VectorWidth.V256:
                for (var s = Vector256.Create(sum); i + 8 <= size; i += 8) (Vector256.Load(x + i) / s).Store(x + i);
                break;
            case VectorWidth.V128:
                for (var s = Vector128.Create(sum); i + 4 <= size; i += 4) (Vector128.Load(x + i) / s).Store(x + i);
                break;
        }
        for (; i < size; i++) x[i] /= sum;
    }

    /// <summary>The largest element (NaN-free input assumed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(float* x, int size, VectorWidth width)
    {
        var i = 0;
        var max = float.NegativeInfinity;
        switch (width)
        {
            case VectorWidth.V512 when size >= 16:
            {
                var m = Vector512.Load(x);
                for (i = 16; i + 16 <= size; i += 16) m = Vector512.Max(m, Vector512.Load(x + i));
                max = HorizontalMax(m.GetLower(), m.GetUpper());
                break;
            }
            case VectorWidth.V256 when size >= 8:
            {
                var m = Vector256.Load(x);
                for (i = 8; i + 8 <= size; i += 8) m = Vector256.Max(m, Vector256.Load(x + i));
                max = HorizontalMax(m);
                break;
            }
            case VectorWidth.V128 when size >= 4:
            {
                var m = Vector128.Load(x);
                for (i = 4; i + 4 <= size; i += 4) m = Vector128.Max(m, Vector128.Load(x + i));
                max = HorizontalMax(m);
                break;
            }
        }
        for (; i < size; i++) if (x[i] > max) max = x[i];
        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float HorizontalMax(Vector256<float> a, Vector256<float> b) => HorizontalMax(Vector256.Max(a, b));

    /// <summary>The largest of the 8 lanes (exact: no order to depend on). The activation quantizers use it too.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float HorizontalMax(Vector256<float> v) => HorizontalMax(Vector128.Max(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector128<float> v)
        => MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));
}
