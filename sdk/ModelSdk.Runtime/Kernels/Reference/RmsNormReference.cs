namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's <c>rmsnorm</c>, scalar. <paramref name="output"/> may alias <paramref name="x"/>.</summary>
internal static unsafe class RmsNormReference
{
    public static void Apply(float* output, float* x, float* weight, int size, float eps)
    {
        float ss = 0;
        for (var j = 0; j < size; j++) ss += x[j] * x[j];
        ss /= size;
        ss += eps;
        ss = 1.0f / MathF.Sqrt(ss);
        for (var j = 0; j < size; j++) output[j] = weight[j] * (ss * x[j]);
    }
}
