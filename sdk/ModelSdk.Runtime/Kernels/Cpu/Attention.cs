using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// Causal attention of one query head over the KV cache (decode: one query position):
/// <c>scores[t] = q·k_t / sqrt(headSize)</c> for t &lt; positions, softmax, <c>out = Σ scores[t]·v_t</c>.
/// <para>
/// The keys are stored transposed, <c>keysT[d · keyStride + t]</c> (dimension-major, positions contiguous), so the scores
/// of a vector of positions come from <c>headSize</c> broadcast-FMAs with no horizontal sums — the row layout needs one
/// horizontal reduction per position, which made attention several percent of a stories15M token. The values keep
/// the row layout (<paramref name="values"/> + t·<paramref name="valueStride"/>), which suits the weighted sum.
/// Grouped-query attention is the caller's choice of key/value slices.
/// </para>
/// Reference: <see cref="Reference.AttentionReference"/> (row-layout keys).
/// </summary>
internal static unsafe class Attention
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Head(float* q, float* keysT, int keyStride, float* values, int valueStride, int headSize, int positions,
        float* scores, float* output, VectorWidth width)
    {
        var scale = MathF.Sqrt(headSize);
        var t = 0;
        switch (width)
        {
            case VectorWidth.V512:
                for (var s = Vector512.Create(scale); t + 16 <= positions; t += 16)
                {
                    var acc = Vector512<float>.Zero;
                    for (var d = 0; d < headSize; d++)
                        acc = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), Vector512.Load(keysT + (long)d * keyStride + t), acc);
                    (acc / s).Store(scores + t);
                }
                break;
            case VectorWidth.V256:
                for (var s = Vector256.Create(scale); t + 8 <= positions; t += 8)
                {
                    var acc = Vector256<float>.Zero;
                    for (var d = 0; d < headSize; d++)
                        acc = Vector256.FusedMultiplyAdd(Vector256.Create(q[d]), Vector256.Load(keysT + (long)d * keyStride + t), acc);
                    (acc / s).Store(scores + t);
                }
                break;
            case VectorWidth.V128:
                for (var s = Vector128.Create(scale); t + 4 <= positions; t += 4)
                {
                    var acc = Vector128<float>.Zero;
                    for (var d = 0; d < headSize; d++)
                        acc = Vector128.FusedMultiplyAdd(Vector128.Create(q[d]), Vector128.Load(keysT + (long)d * keyStride + t), acc);
                    (acc / s).Store(scores + t);
                }
                break;
        }
        for (; t < positions; t++)
        {
            float score = 0;
            for (var d = 0; d < headSize; d++) score += q[d] * keysT[(long)d * keyStride + t];
            scores[t] = score / scale;
        }

        Softmax.Apply(scores, positions, width);

        new Span<float>(output, headSize).Clear();
        for (t = 0; t < positions; t++)
        {
            var a = scores[t];
            var v = values + (long)t * valueStride;
            var i = 0;
            switch (width)
            {
                case VectorWidth.V512:
                    for (var va = Vector512.Create(a); i + 16 <= headSize; i += 16)
                        Vector512.FusedMultiplyAdd(va, Vector512.Load(v + i), Vector512.Load(output + i)).Store(output + i);
                    goto case VectorWidth.V256;
                case VectorWidth.V256:
                    for (var va = Vector256.Create(a); i + 8 <= headSize; i += 8)
                        Vector256.FusedMultiplyAdd(va, Vector256.Load(v + i), Vector256.Load(output + i)).Store(output + i);
                    goto case VectorWidth.V128;
                case VectorWidth.V128:
                    for (var va = Vector128.Create(a); i + 4 <= headSize; i += 4)
                        Vector128.FusedMultiplyAdd(va, Vector128.Load(v + i), Vector128.Load(output + i)).Store(output + i);
                    break;
            }
            for (; i < headSize; i++) output[i] += a * v[i];
        }
    }
}
