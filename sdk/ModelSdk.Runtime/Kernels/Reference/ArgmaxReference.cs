namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's <c>sample_argmax</c>: the first index of the largest value.</summary>
internal static unsafe class ArgmaxReference
{
    public static int Find(float* x, int size)
    {
        var maxIndex = 0;
        var max = x[0];
        for (var i = 1; i < size; i++)
        {
            if (x[i] > max)
            {
                maxIndex = i;
                max = x[i];
            }
        }
        return maxIndex;
    }
}
