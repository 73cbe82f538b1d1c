using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Sampling;

namespace ModelSdk.Runtime.Backend;

/// <summary>
/// Where a <see cref="LanguageModel"/> runs: the CPU (<see cref="CpuBackend"/>) or a GPU (<see cref="Gpu.GpuBackend"/>).
/// Shared, read-only weights; all per-call state lives in the sessions it creates.
/// </summary>
internal interface IInferenceBackend : IDisposable
{
    ModelDevice Device { get; }

    /// <summary>CPU threads one forward pass uses.</summary>
    int Threads { get; }

    /// <summary>Vector width of the host-side sampler.</summary>
    VectorWidth Width { get; }

    IInferenceSession CreateSession();
}

/// <summary>One caller's generation state (KV cache, activations) on a backend.</summary>
internal interface IInferenceSession : IDisposable
{
    LlamaConfig Config { get; }

    /// <summary>Runs one token at <paramref name="pos"/>, appending its keys and values to the cache.</summary>
    void Forward(int token, int pos, bool computeLogits);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <paramref name="startPos"/>.. (the earlier positions must have been run);
    /// the logits, when asked for, are those after the last token. A GPU runs the prompt as a batch.
    /// </summary>
    void Prefill(ReadOnlySpan<int> tokens, int startPos, bool computeLogits, CancellationToken ct);

    /// <summary>The logits of the last step that computed them, on the host (a GPU copies them back here).</summary>
    Span<float> Logits();

    /// <summary>Picks the next token from the last logits (a GPU picks greedy tokens on the device and sends back only the id).</summary>
    int Sample(Sampler sampler);
}
