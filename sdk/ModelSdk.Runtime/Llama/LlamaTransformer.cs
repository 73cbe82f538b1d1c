using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Threading;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// The shared, read-only half of a Llama model on the CPU: weights, RoPE table, kernel width and the worker team.
/// All mutable state of a generation lives in a <see cref="LlamaSession"/> (KV cache, activations, logits), one per caller,
/// so any number of threads can run sessions at once; they take turns on the worker team one token at a time.
/// </summary>
internal sealed class LlamaTransformer : IDisposable
{
    private readonly bool _ownsWeights;

    public LlamaTransformer(LlamaWeights weights, int threads, VectorWidth? width = null, bool ownsWeights = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Weights = weights;
        _ownsWeights = ownsWeights;
        Width = VectorWidths.Validate(width ?? VectorWidths.Best);
        Rope = new RopeTable(Config.ContextLength, Config.HeadSize, Config.RopeTheta);
        Team = threads > 1 ? new WorkerTeam(threads) : null;
    }

    public LlamaConfig Config => Weights.Config;

    public LlamaWeights Weights { get; }

    public VectorWidth Width { get; }

    public RopeTable Rope { get; }

    /// <summary>Null when single-threaded: then every session runs on its own caller's thread, with no lock.</summary>
    public WorkerTeam? Team { get; }

    public int Threads => Team?.Size ?? 1;

    public LlamaSession CreateSession() => new(this);

    public void Dispose()
    {
        Team?.Dispose();
        Rope.Dispose();
        if (_ownsWeights) Weights.Dispose();
    }
}
