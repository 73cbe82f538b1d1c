namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's per-head attention loop, scalar (see <see cref="Cpu.Attention"/> for the arguments).</summary>
internal static unsafe class AttentionReference
{
    public static void Head(float* q, float* keys, float* values, int rowStride, int headSize, int positions, float* scores, float* output)
    {
        for (var t = 0; t < positions; t++)
        {
            var k = keys + (long)t * rowStride;
            float score = 0;
            for (var i = 0; i < headSize; i++) score += q[i] * k[i];
            scores[t] = score / MathF.Sqrt(headSize);
        }
        SoftmaxReference.Apply(scores, positions);
        for (var i = 0; i < headSize; i++) output[i] = 0;
        for (var t = 0; t < positions; t++)
        {
            var v = values + (long)t * rowStride;
            var a = scores[t];
            for (var i = 0; i < headSize; i++) output[i] += a * v[i];
        }
    }
}
