using ModelSdk.Diagnostics;

namespace ModelSdk.Architecture;

/// <summary>Hyper-parameters of a Llama-family decoder (llama2.c naming, grouped-query attention allowed).</summary>
public sealed record LlamaConfig
{
    public required int Dim { get; init; }
    public required int HiddenDim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextLength { get; init; }

    /// <summary>True when the classifier reuses the token embedding matrix.</summary>
    public required bool SharedClassifier { get; init; }

    public float NormEps { get; init; } = 1e-5f;
    public float RopeTheta { get; init; } = 10000f;

    public int HeadSize => Dim / Heads;
    public int KvDim => Dim / Heads * KvHeads;

    /// <summary>Upper bounds that keep every int32 index and every int64 size product far from overflow.</summary>
    public const int MaxDim = 1 << 16, MaxHiddenDim = 1 << 18, MaxLayers = 1024, MaxVocab = 1 << 21, MaxContext = 1 << 20;

    /// <summary>Checks the shape is internally consistent and within bounds; returns the first problem or null.</summary>
    public string? Validate()
    {
        if (Dim <= 0 || Dim > MaxDim) return $"dim {Dim} is outside 1..{MaxDim}";
        if (HiddenDim <= 0 || HiddenDim > MaxHiddenDim) return $"hidden_dim {HiddenDim} is outside 1..{MaxHiddenDim}";
        if (Layers <= 0 || Layers > MaxLayers) return $"n_layers {Layers} is outside 1..{MaxLayers}";
        if (Heads <= 0 || Heads > Dim || Dim % Heads != 0) return $"n_heads {Heads} does not divide dim {Dim}";
        if (HeadSize % 2 != 0) return $"head size {HeadSize} is odd (RoPE rotates pairs)";
        if (KvHeads <= 0 || KvHeads > Heads || Heads % KvHeads != 0) return $"n_kv_heads {KvHeads} does not divide n_heads {Heads}";
        if (VocabSize <= 0 || VocabSize > MaxVocab) return $"vocab_size {VocabSize} is outside 1..{MaxVocab}";
        if (ContextLength <= 0 || ContextLength > MaxContext) return $"seq_len {ContextLength} is outside 1..{MaxContext}";
        return null;
    }

    public void EnsureValid(string? filePath)
    {
        if (Validate() is { } problem)
            throw new ModelSdkException(DiagnosticCodes.CheckpointHeaderInvalid, $"Invalid model shape: {problem}.", filePath);
    }
}
