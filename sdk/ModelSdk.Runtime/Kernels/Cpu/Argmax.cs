using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// Index of the largest element, the first one on ties (llama2.c's <c>sample_argmax</c> order): a vectorized
/// maximum, then a vectorized search for its first occurrence. Reference: <see cref="Reference.ArgmaxReference"/>.
/// </summary>
internal static unsafe class Argmax
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Find(float* x, int size, VectorWidth width)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size));
        var max = Softmax.Max(x, size, width);
        var i = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (var m = Vector512.Create(max); i + 16 <= size; i += 16)
                {
                    var mask = Vector512.Equals(Vector512.Load(x + i), m).ExtractMostSignificantBits();
                    if (mask != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                }
                break;
            case VectorWidth.V256:
                for (var m = Vector256.Create(max); i + 8 <= size; i += 8)
                {
                    var mask = Vector256.Equals(Vector256.Load(x + i), m).ExtractMostSignificantBits();
                    if (mask != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                }
                break;
            case VectorWidth.V128:
                for (var m = Vector128.Create(max); i + 4 <= size; i += 4)
                {
                    var mask = Vector128.Equals(Vector128.Load(x + i), m).ExtractMostSignificantBits();
                    if (mask != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                }
                break;
        }
        for (; i < size; i++) if (x[i] == max) return i;
        return 0; // only reachable with NaNs: llama2.c's loop would keep index 0 as well
    }
}
