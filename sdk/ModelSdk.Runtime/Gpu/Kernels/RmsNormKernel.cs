using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>
/// RMSNorm of each row (one block per row): out[t] = weight ⊙ (x[t] / sqrt(mean(x[t]²) + eps)), llama2.c's order of
/// operations. Decode folds this into <see cref="MatVecKernel"/>; prefill normalizes the prompt's rows once before
/// the GEMM reads them many times.
/// </summary>
internal static class RmsNormKernel
{
    public static void Run(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> output, int size, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(32);
        var row = (long)Grid.IdxX * size;
        var ss = 0f;
        for (var i = Group.IdxX; i < size; i += Group.DimX)
        {
            var v = x[row + i];
            ss += v * v;
        }
        var total = Reductions.BlockSum(ss, scratch);
        var scale = 1.0f / MathF.Sqrt(total / size + eps);
        for (var i = Group.IdxX; i < size; i += Group.DimX) output[row + i] = weight[i] * (scale * x[row + i]);
    }
}
