using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>
/// A session's small device-resident state: the token and position of the step being run (read by the kernels, so
/// a captured CUDA graph replays any step unchanged) and the greedy pick of the last step.
/// </summary>
internal static class StepState
{
    public const int Token = 0, Pos = 1, Argmax = 2, Length = 4;

    /// <summary>One thread: state = (token, pos).</summary>
    public static void Set(ArrayView<int> state, int token, int pos)
    {
        if (Grid.GlobalIndex.X != 0) return;
        state[Token] = token;
        state[Pos] = pos;
    }
}
