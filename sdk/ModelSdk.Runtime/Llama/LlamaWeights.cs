using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Tensors;

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

    /// <summary>
    /// Storage type of <see cref="TokenEmbedding"/> and of <see cref="Classifier"/> (f32 unless quantized; then the pointers
    /// point at the packed bytes, see <see cref="TensorFormat"/>, and rows are dequantized on lookup).
    /// </summary>
    public TensorType EmbeddingType { get; protected set; } = TensorType.F32;

    public TensorType ClassifierType { get; protected set; } = TensorType.F32;

    /// <summary>The token embedding as the kernels read it.</summary>
    public WeightMatrix EmbeddingMatrix => new(EmbeddingType, TokenEmbedding, Config.VocabSize, Config.Dim);

    /// <summary>The classifier as the kernels read it.</summary>
    public WeightMatrix ClassifierMatrix => new(ClassifierType, Classifier, Config.VocabSize, Config.Dim);

    public LayerWeights[] Layers { get; }

    /// <summary>Bytes of weights one decode step reads: every matrix once, the classifier included, plus one embedding row.</summary>
    public long BytesPerToken
    {
        get
        {
            var c = Config;
            long dim = c.Dim;
            long total = (dim * 2 * c.Layers + dim + dim) * sizeof(float); // norms, the final norm and one embedding row
            foreach (var layer in Layers)
                total += layer.Matrices.Sum(m => m.ByteLength);
            return total + TensorFormats.Of(ClassifierType).ByteLength([c.VocabSize, dim])!.Value;
        }
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// One transformer block's weights. The seven matrices may differ in storage: dense ones in any type of the traits table
/// (<see cref="TensorFormats"/>), low-rank ones as their two factors (<see cref="LayerMatrix"/>).
/// </summary>
internal unsafe struct LayerWeights
{
    public float* AttentionNorm; // [dim]
    public LayerMatrix Wq;       // [dim, dim]
    public LayerMatrix Wk;       // [kvDim, dim]
    public LayerMatrix Wv;       // [kvDim, dim]
    public LayerMatrix Wo;       // [dim, dim]
    public float* FfnNorm;       // [dim]
    public LayerMatrix W1;       // [hidden, dim]
    public LayerMatrix W2;       // [dim, hidden]
    public LayerMatrix W3;       // [hidden, dim]

    /// <summary>The seven matrices in artifact order (wq, wk, wv, wo, w1, w2, w3).</summary>
    public readonly LayerMatrix[] Matrices => [Wq, Wk, Wv, Wo, W1, W2, W3];
}
