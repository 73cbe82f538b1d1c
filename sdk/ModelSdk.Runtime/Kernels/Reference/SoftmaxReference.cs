namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's <c>softmax</c>, scalar, in place.</summary>
internal static unsafe class SoftmaxReference
{
    public static void Apply(float* x, int size)
    {
        if (size <= 0) return;
        var max = x[0];
        for (var i = 1; i < size; i++) if (x[i] > max) max = x[i];
        float sum = 0;
        for (var i = 0; i < size; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        for (var i = 0; i < size; i++) x[i] /= sum;
    }
}
