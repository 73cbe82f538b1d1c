using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// Rotary position embedding, llama2.c style: each interleaved pair (i, i+1) of a head is rotated by
/// <c>pos · theta^(-(i mod headSize)/headSize)</c>. The angles come from a per-position table
/// (<see cref="Llama.RopeTable"/>) holding cos duplicated over the pair and sin as (−sin, +sin), so a vector step is
/// <c>v·cos + swapPairs(v)·sin</c> — the same products and sums as the scalar formula, hence the same rounding.
/// Applies to elements [start, end) of a vector made of whole heads; start and end must be even.
/// Reference: <see cref="Reference.RopeReference"/>.
/// </summary>
internal static unsafe class Rope
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float* v, int start, int end, int headSize, float* cos, float* sinSigned, VectorWidth width)
    {
        var i = start;
        while (i < end)
        {
            var j = i % headSize;
            var segmentEnd = Math.Min(end, i - j + headSize);
            switch (width)
            {
                case VectorWidth.V512:
                    for (; i + 16 <= segmentEnd; i += 16, j += 16)
                    {
                        var x = Vector512.Load(v + i);
                        var swapped = Vector512.Shuffle(x, Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
                        (x * Vector512.Load(cos + j) + swapped * Vector512.Load(sinSigned + j)).Store(v + i);
                    }
                    break;
                case VectorWidth.V256:
                    for (; i + 8 <= segmentEnd; i += 8, j += 8)
                    {
                        var x = Vector256.Load(v + i);
                        var swapped = Vector256.Shuffle(x, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6));
                        (x * Vector256.Load(cos + j) + swapped * Vector256.Load(sinSigned + j)).Store(v + i);
                    }
                    break;
                case VectorWidth.V128:
                    for (; i + 4 <= segmentEnd; i += 4, j += 4)
                    {
                        var x = Vector128.Load(v + i);
                        var swapped = Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2));
                        (x * Vector128.Load(cos + j) + swapped * Vector128.Load(sinSigned + j)).Store(v + i);
                    }
                    break;
            }
            for (; i < segmentEnd; i += 2, j += 2)
            {
                float v0 = v[i], v1 = v[i + 1];
                v[i] = v0 * cos[j] + v1 * sinSigned[j];
                v[i + 1] = v1 * cos[j + 1] + v0 * sinSigned[j + 1];
            }
        }
    }
}
