using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// A CUDA graph captured from the launches of one decode step (about 6 per layer), replayed with one
/// <c>cuGraphLaunch</c> per token: the GPU runs the kernels back to back instead of waiting on the host's launch rate,
/// which at ~1 ms per token of a 1B model is the same order as the step itself. ILGPU has no graph API, so this calls the
/// driver (<c>libcuda</c>) directly on ILGPU's stream. The kernels read the token and position from device memory, so
/// one graph serves every step. Any failure leaves the caller on plain launches.
/// </summary>
internal sealed unsafe class CudaGraph : IDisposable
{
    private const int CaptureModeRelaxed = 2; // CU_STREAM_CAPTURE_MODE_RELAXED
    private static readonly Lazy<Api?> Driver = new(Api.TryLoad);
    private nint _graph;
    private nint _exec;

    private CudaGraph(nint graph, nint exec)
    {
        _graph = graph;
        _exec = exec;
    }

    /// <summary>Records what <paramref name="body"/> launches on <paramref name="stream"/> (nothing runs) and instantiates it.</summary>
    public static CudaGraph? Capture(CudaStream stream, Action body, out string? failure)
    {
        failure = null;
        var api = Driver.Value;
        if (api is null)
        {
            failure = "the CUDA driver's graph functions were not found";
            return null;
        }
        var s = stream.StreamPtr;
        var result = api.BeginCapture(s, CaptureModeRelaxed);
        if (result != 0)
        {
            failure = $"cuStreamBeginCapture failed ({result})";
            return null;
        }
        nint graph = 0;
        try
        {
            body();
        }
        catch (Exception e)
        {
            api.EndCapture(s, &graph);
            if (graph != 0) api.GraphDestroy(graph);
            failure = $"a launch failed during capture: {e.Message}";
            return null;
        }
        result = api.EndCapture(s, &graph);
        if (result != 0 || graph == 0)
        {
            failure = $"cuStreamEndCapture failed ({result})";
            return null;
        }
        nint exec = 0;
        result = api.Instantiate(&exec, graph, 0);
        if (result != 0)
        {
            api.GraphDestroy(graph);
            failure = $"cuGraphInstantiateWithFlags failed ({result})";
            return null;
        }
        return new CudaGraph(graph, exec);
    }

    public void Launch(CudaStream stream)
    {
        var result = Driver.Value!.Launch(_exec, stream.StreamPtr);
        if (result != 0) throw new InvalidOperationException($"cuGraphLaunch failed with CUDA error {result}.");
    }

    public void Dispose()
    {
        if (_exec != 0) Driver.Value!.ExecDestroy(_exec);
        if (_graph != 0) Driver.Value!.GraphDestroy(_graph);
        _exec = _graph = 0;
    }

    private sealed class Api
    {
        public delegate* unmanaged<nint, int, int> BeginCapture;
        public delegate* unmanaged<nint, nint*, int> EndCapture;
        public delegate* unmanaged<nint*, nint, ulong, int> Instantiate;
        public delegate* unmanaged<nint, nint, int> Launch;
        public delegate* unmanaged<nint, int> ExecDestroy;
        public delegate* unmanaged<nint, int> GraphDestroy;

        public static Api? TryLoad()
        {
            var name = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
            if (!NativeLibrary.TryLoad(name, out var lib)) return null;
            nint Get(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var f) ? f : 0;
            nint begin = Get("cuStreamBeginCapture_v2"), end = Get("cuStreamEndCapture"), inst = Get("cuGraphInstantiateWithFlags"),
                launch = Get("cuGraphLaunch"), execDestroy = Get("cuGraphExecDestroy"), destroy = Get("cuGraphDestroy");
            if (begin == 0 || end == 0 || inst == 0 || launch == 0 || execDestroy == 0 || destroy == 0) return null;
            return new Api
            {
                BeginCapture = (delegate* unmanaged<nint, int, int>)begin,
                EndCapture = (delegate* unmanaged<nint, nint*, int>)end,
                Instantiate = (delegate* unmanaged<nint*, nint, ulong, int>)inst,
                Launch = (delegate* unmanaged<nint, nint, int>)launch,
                ExecDestroy = (delegate* unmanaged<nint, int>)execDestroy,
                GraphDestroy = (delegate* unmanaged<nint, int>)destroy,
            };
        }
    }
}
