using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// An ILGPU context and the accelerator the GPU backend runs on: a CUDA device, or — for tests without a GPU — ILGPU's
/// CPU accelerator, an emulator that runs every kernel thread as a .NET thread (correct but slow: small shapes only,
/// never a CPU backend).
/// </summary>
internal sealed class GpuDevice : IDisposable
{
    private GpuDevice(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    public string Name => IsCuda ? $"{Accelerator.Name} (CUDA)" : $"ILGPU CPU emulator (warp {Accelerator.WarpSize})";

    /// <summary>
    /// The first CUDA device, or null when there is none (no driver library, no device). A device that is present but
    /// fails to start throws: the caller reports it (MSDK2005) instead of silently running elsewhere.
    /// </summary>
    public static GpuDevice? TryCreateCuda()
    {
        // No driver library, no device: skip creating an ILGPU context (what every Auto load pays on a machine without a GPU).
        if (!DriverPresent.Value) return null;
        _ = ResolveVersionedDriver.Value;
        var context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                context.Dispose();
                return null;
            }
            return new GpuDevice(context, devices[0].CreateCudaAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// ILGPU's CPU accelerator with the given warp size (≥ 2) and warps per group. Each warp shuffle and barrier is an OS
    /// thread rendezvous, so small warps and groups run fastest; larger ones exercise more of the kernels' lane logic.
    /// </summary>
    public static GpuDevice CreateEmulator(int warpSize = 2, int warpsPerGroup = 2, int multiprocessors = 1)
    {
        var context = Context.Create(builder => builder.EnableAlgorithms().Optimize(OptimizationLevel.O2));
        try
        {
            return new GpuDevice(context, new CPUDevice(warpSize, warpsPerGroup, multiprocessors).CreateCPUAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static readonly Lazy<bool> DriverPresent = new(() =>
    {
        var name = OperatingSystem.IsWindows() ? "nvcuda.dll" : OperatingSystem.IsMacOS() ? "libcuda.dylib" : "libcuda.so.1";
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var handle)) return false;
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    });

    /// <summary>
    /// ILGPU imports the driver as "cuda", which .NET probes as libcuda.so; a machine with only the driver (no CUDA
    /// toolkit) may have just libcuda.so.1. This fallback runs only when the default probing fails.
    /// </summary>
    private static readonly Lazy<bool> ResolveVersionedDriver = new(() =>
    {
        var ilgpu = typeof(Context).Assembly;
        System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
            assembly == ilgpu && name == "cuda" && !OperatingSystem.IsWindows()
            && System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out var handle) ? handle : 0;
        return true;
    });

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
