using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>
/// Greedy sampling on the device: one block finds the first index of the largest logit (llama2.c's
/// <c>sample_argmax</c>: ties go to the lower id) and writes it to state[<see cref="StepState.Argmax"/>], so a
/// greedy step sends 4 bytes back instead of the logits.
/// </summary>
internal static class ArgmaxKernel
{
    public static void Run(ArrayView<float> logits, int count, ArrayView<int> state)
    {
        var bestValues = SharedMemory.Allocate<float>(32);
        var bestIndices = SharedMemory.Allocate<int>(32);
        var best = float.NegativeInfinity;
        var index = int.MaxValue;
        for (var i = Group.IdxX; i < count; i += Group.DimX)
        {
            var v = logits[i];
            if (v > best)
            {
                best = v;
                index = i;
            }
        }
        for (var offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            var otherValue = Warp.ShuffleXor(best, offset);
            var otherIndex = Warp.ShuffleXor(index, offset);
            if (otherValue > best || (otherValue == best && otherIndex < index))
            {
                best = otherValue;
                index = otherIndex;
            }
        }
        if (Warp.LaneIdx == 0)
        {
            bestValues[Group.IdxX / Warp.WarpSize] = best;
            bestIndices[Group.IdxX / Warp.WarpSize] = index;
        }
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            var warps = Group.DimX / Warp.WarpSize;
            for (var w = 1; w < warps; w++)
            {
                if (bestValues[w] > best || (bestValues[w] == best && bestIndices[w] < index))
                {
                    best = bestValues[w];
                    index = bestIndices[w];
                }
            }
            state[StepState.Argmax] = index == int.MaxValue ? 0 : index;
        }
    }
}
