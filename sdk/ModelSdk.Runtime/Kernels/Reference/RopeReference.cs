namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's RoPE loop, computing each angle on the spot: pairs (i, i+1), freq = theta^(-(i mod headSize)/headSize).</summary>
internal static unsafe class RopeReference
{
    public static void Apply(float* v, int size, int headSize, int pos, float theta)
    {
        for (var i = 0; i < size; i += 2)
        {
            var headDim = i % headSize;
            var freq = 1.0f / MathF.Pow(theta, headDim / (float)headSize);
            var val = pos * freq;
            var fcr = MathF.Cos(val);
            var fci = MathF.Sin(val);
            float v0 = v[i], v1 = v[i + 1];
            v[i] = v0 * fcr - v1 * fci;
            v[i + 1] = v0 * fci + v1 * fcr;
        }
    }
}
