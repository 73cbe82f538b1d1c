using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// The feed-forward gate, in place over a range: <c>gate[i] = silu(gate[i]) * up[i]</c>, silu(v) = v·σ(v).
/// Reference: <see cref="Reference.SwiGluReference"/>.
/// </summary>
internal static unsafe class SwiGlu
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float* gate, float* up, int start, int end, VectorWidth width)
    {
        var i = start;
        switch (width)
        {
            case VectorWidth.V512:
                for (var one = Vector512<float>.One; i + 16 <= end; i += 16)
                {
                    var g = Vector512.Load(gate + i);
                    (g * (one / (one + Vector512.Exp(-g))) * Vector512.Load(up + i)).Store(gate + i);
                }
                break;
            case VectorWidth.V256:
                for (var one = Vector256<float>.One; i + 8 <= end; i += 8)
                {
                    var g = Vector256.Load(gate + i);
                    (g * (one / (one + Vector256.Exp(-g))) * Vector256.Load(up + i)).Store(gate + i);
                }
                break;
            case VectorWidth.V128:
                for (var one = Vector128<float>.One; i + 4 <= end; i += 4)
                {
                    var g = Vector128.Load(gate + i);
                    (g * (one / (one + Vector128.Exp(-g))) * Vector128.Load(up + i)).Store(gate + i);
                }
                break;
        }
        for (; i < end; i++)
        {
            var g = gate[i];
            gate[i] = g * (1.0f / (1.0f + MathF.Exp(-g))) * up[i];
        }
    }
}
