namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's SwiGLU loop, scalar: <c>hb[i] = silu(hb[i]) * hb2[i]</c>.</summary>
internal static unsafe class SwiGluReference
{
    public static void Apply(float* gate, float* up, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            var val = gate[i];
            val *= 1.0f / (1.0f + MathF.Exp(-val));
            val *= up[i];
            gate[i] = val;
        }
    }
}
