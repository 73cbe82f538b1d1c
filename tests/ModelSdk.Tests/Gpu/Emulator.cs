using ILGPU;
using ILGPU.Runtime;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Gpu.Kernels;

namespace ModelSdk.Tests.Gpu;

/// <summary>
/// The GPU kernels' test device: ILGPU's CPU accelerator (no GPU needed), warp size 4, 2 warps per group and 2
/// multiprocessors, so the lane loops, warp shuffles, block reductions and multi-block grids all run. Every shuffle and
/// barrier is a rendezvous of OS threads, so shapes stay small. Shared by the GPU tests, which run one at a time.
/// </summary>
internal static class Emulator
{
    public const string Collection = "GPU emulator";

    private static readonly Lazy<GpuDevice> Shared = new(() => GpuDevice.CreateEmulator(warpSize: 4, warpsPerGroup: 2, multiprocessors: 2));
    private static readonly Lazy<GpuKernels<F32Weights>> F32 = new(() => new GpuKernels<F32Weights>(Accelerator));
    private static readonly Lazy<GpuKernels<F16Weights>> F16 = new(() => new GpuKernels<F16Weights>(Accelerator));

    public static GpuDevice Device => Shared.Value;

    public static Accelerator Accelerator => Device.Accelerator;

    public static GpuKernels<F32Weights> KernelsF32 => F32.Value;

    public static GpuKernels<F16Weights> KernelsF16 => F16.Value;

    public static MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] values) => Accelerator.Allocate1D(values);

    public static MemoryBuffer1D<int, Stride1D.Dense> Upload(int[] values) => Accelerator.Allocate1D(values);

    /// <summary>A buffer filled with NaN, so an element no kernel wrote fails the comparison.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Poisoned(int count) => Accelerator.Allocate1D(Enumerable.Repeat(float.NaN, count).ToArray());

    /// <summary>Packs a row-major fp32 matrix into the format's chunks on the device.</summary>
    public static unsafe GpuMatrix Matrix(float[] values, int rows, int cols, GpuWeightFormat format)
    {
        fixed (float* p = values)
        {
            var at = (nint)p;
            return GpuWeights.Pack(Accelerator, format, ModelSdk.Tensors.TensorType.F32, rows, cols, r => at + (nint)r * cols * sizeof(float));
        }
    }

    /// <summary>The values the device sees for fp16 weights (rounded to nearest even), for exact references.</summary>
    public static float[] AsStored(float[] values, GpuWeightFormat format)
        => format == GpuWeightFormat.F16 ? values.Select(v => (float)(System.Half)v).ToArray() : values;

    [CollectionDefinition(Collection, DisableParallelization = true)]
    public sealed class Definition;
}
