using ModelSdk.Architecture;
using ModelSdk.Runtime.Backend;
using ModelSdk.Runtime.Gpu.Kernels;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Llama;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// The GPU backend: the weights uploaded once, the kernels compiled once (specialized for the weight format), and
/// sessions that each hold a KV cache and activations on the device. Steps of different sessions take turns (one lock),
/// as callers on the CPU backend take turns on its worker team.
/// </summary>
internal sealed class GpuBackend : IInferenceBackend
{
    private readonly bool _ownsDevice;
    private readonly object _kernels;

    public GpuBackend(GpuDevice device, LlamaWeights weights, GpuWeightFormat format, bool ownsDevice = true)
    {
        var c = weights.Config;
        if (c.Validate() is { } problem) throw new ArgumentException($"Invalid model shape: {problem}.", nameof(weights));
        Device = device;
        _ownsDevice = ownsDevice;
        var maxShared = 48 * 1024 / sizeof(float) - 64;
        var per = GpuWeights.ElementsPerChunk(format);
        if ((c.HiddenDim + per) > maxShared || c.Dim + per > maxShared)
            throw new NotSupportedException($"The GPU backend stages a matvec's input in 48 KB of shared memory: dim {c.Dim} and hidden_dim {c.HiddenDim} must be at most {maxShared - per}.");
        Weights = new GpuWeights(device.Accelerator, weights, format);
        try
        {
            _kernels = format == GpuWeightFormat.F16 ? new GpuKernels<F16Weights>(device.Accelerator) : new GpuKernels<F32Weights>(device.Accelerator);
        }
        catch
        {
            Weights.Dispose();
            throw;
        }
    }

    public GpuDevice Device { get; }

    public GpuWeights Weights { get; }

    public LlamaConfig Config => Weights.Config;

    /// <summary>Replay each decode step as a captured CUDA graph (CUDA only; plain launches when off or when capture fails).</summary>
    public bool UseGraphs { get; set; } = true;

    /// <summary>Prompt tokens one prefill batch runs (longer prompts run in batches of this size).</summary>
    public int MaxPrefillTokens { get; init; } = 512;

    /// <summary>Positions per attention split (flash-decoding): attention over pos + 1 keys runs ceil(pos + 1 / chunk) blocks per head.</summary>
    public int AttentionChunk { get; init; } = 256;

    internal object Gate { get; } = new();

    /// <summary>Cuda (tests that run this backend on ILGPU's CPU emulator see Cuda too: it is the same backend).</summary>
    ModelDevice IInferenceBackend.Device => ModelDevice.Cuda;

    public int Threads => 1;

    public VectorWidth Width => VectorWidths.Best;

    public IInferenceSession CreateSession() => CreateGpuSession();

    public GpuSession CreateGpuSession() => _kernels switch
    {
        GpuKernels<F16Weights> k => new GpuSession<F16Weights>(this, k),
        GpuKernels<F32Weights> k => new GpuSession<F32Weights>(this, k),
        _ => throw new InvalidOperationException(),
    };

    public void Dispose()
    {
        Weights.Dispose();
        if (_ownsDevice) Device.Dispose();
    }
}
