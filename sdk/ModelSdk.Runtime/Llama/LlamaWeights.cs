using ModelSdk.Architecture;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// Where a Llama forward pass reads its fp32 weights: native pointers, row-major out × in, each valid for the
/// lifetime of this object. Implemented over a memory-mapped artifact (<see cref="ArtifactLlamaWeights"/>) and over
/// native memory (<see cref="NativeLlamaWeights"/>, for synthetic models in tests and benchmarks).
/// </summary>
internal abstract unsafe class LlamaWeights : IDisposable
{
    protected LlamaWeights(LlamaConfig config)
    {
        if (config.Validate() is { } problem) throw new ArgumentException($"Invalid model shape: {problem}.", nameof(config));
        Config = config;
        Layers = new LayerWeights[config.Layers];
    }

    public LlamaConfig Config { get; }

    /// <summary>[vocab, dim]</summary>
    public float* TokenEmbedding { get; protected set; }

    /// <summary>[dim]</summary>
    public float* FinalNorm { get; protected set; }

    /// <summary>[vocab, dim]; the token embedding when the classifier is shared.</summary>
    public float* Classifier { get; protected set; }

    public LayerWeights[] Layers { get; }

    /// <summary>Bytes of weights one decode step reads: every matrix once, the classifier included, plus one embedding row.</summary>
    public long BytesPerToken
    {
        get
        {
            var c = Config;
            long dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
            long perLayer = dim * dim * 2 + kv * dim * 2 + hidden * dim * 3 + dim * 2;
            return (perLayer * c.Layers + (long)c.VocabSize * dim + dim + dim) * sizeof(float);
        }
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>One transformer block's weights.</summary>
internal unsafe struct LayerWeights
{
    public float* AttentionNorm; // [dim]
    public float* Wq;            // [dim, dim]
    public float* Wk;            // [kvDim, dim]
    public float* Wv;            // [kvDim, dim]
    public float* Wo;            // [dim, dim]
    public float* FfnNorm;       // [dim]
    public float* W1;            // [hidden, dim]
    public float* W2;            // [dim, hidden]
    public float* W3;            // [hidden, dim]
}
