using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// <c>o = weight ⊙ x / sqrt(mean(x²) + eps)</c>; <paramref name="output"/> may alias <paramref name="x"/>.
/// Reference: <see cref="Reference.RmsNormReference"/>.
/// </summary>
internal static unsafe class RmsNorm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float* output, float* x, float* weight, int size, float eps, VectorWidth width)
    {
        var ss = SumOfSquares(x, size, width);
        ss /= size;
        ss += eps;
        var scale = 1.0f / MathF.Sqrt(ss);
        var i = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (var s = Vector512.Create(scale); i + 16 <= size; i += 16)
                    (Vector512.Load(weight + i) * (s * Vector512.Load(x + i))).Store(output + i);
                break;
            case VectorWidth.V256:
                for (var s = Vector256.Create(scale); i + 8 <= size; i += 8)
                    (Vector256.Load(weight + i) * (s * Vector256.Load(x + i))).Store(output + i);
                break;
            case VectorWidth.V128:
                for (var s = Vector128.Create(scale); i + 4 <= size; i += 4)
                    (Vector128.Load(weight + i) * (s * Vector128.Load(x + i))).Store(output + i);
                break;
        }
        for (; i < size; i++) output[i] = weight[i] * (scale * x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumOfSquares(float* x, int size, VectorWidth width)
    {
        var i = 0;
        float sum = 0;
        switch (width)
        {
            case VectorWidth.V512:
            {
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= size; i += 16)
                {
                    var v = Vector512.Load(x + i);
                    acc = Vector512.FusedMultiplyAdd(v, v, acc);
                }
                sum = Vector512.Sum(acc);
                break;
            }
            case VectorWidth.V256:
            {
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= size; i += 8)
                {
                    var v = Vector256.Load(x + i);
                    acc = Vector256.FusedMultiplyAdd(v, v, acc);
                }
                sum = Vector256.Sum(acc);
                break;
            }
            case VectorWidth.V128:
            {
                var acc = Vector128<float>.Zero;
                for (; i + 4 <= size; i += 4)
                {
                    var v = Vector128.Load(x + i);
                    acc = Vector128.FusedMultiplyAdd(v, v, acc);
                }
                sum = Vector128.Sum(acc);
                break;
            }
        }
        for (; i < size; i++) sum += x[i] * x[i];
        return sum;
    }
}
