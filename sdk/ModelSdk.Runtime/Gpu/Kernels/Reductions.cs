using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>Warp and block reductions. Every thread of the warp (block) must call them, in uniform control flow.</summary>
internal static class Reductions
{
    /// <summary>Butterfly sum: every lane gets the warp's total.</summary>
    public static float WarpSum(float value)
    {
        for (var offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    public static float WarpMax(float value)
    {
        for (var offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            var other = Warp.ShuffleXor(value, offset);
            value = other > value ? other : value;
        }
        return value;
    }

    /// <summary>Block-wide sum, returned to every thread; <paramref name="scratch"/> holds one float per warp. Ends with a barrier.</summary>
    public static float BlockSum(float value, ArrayView<float> scratch)
    {
        value = WarpSum(value);
        var warps = Group.DimX / Warp.WarpSize;
        if (Warp.LaneIdx == 0) scratch[Group.IdxX / Warp.WarpSize] = value;
        Group.Barrier();
        var total = 0f;
        for (var w = 0; w < warps; w++) total += scratch[w];
        Group.Barrier();
        return total;
    }

    /// <summary>Block-wide maximum, returned to every thread. Ends with a barrier.</summary>
    public static float BlockMax(float value, ArrayView<float> scratch)
    {
        value = WarpMax(value);
        var warps = Group.DimX / Warp.WarpSize;
        if (Warp.LaneIdx == 0) scratch[Group.IdxX / Warp.WarpSize] = value;
        Group.Barrier();
        var max = float.NegativeInfinity;
        for (var w = 0; w < warps; w++) max = scratch[w] > max ? scratch[w] : max;
        Group.Barrier();
        return max;
    }
}
