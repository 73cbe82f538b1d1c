using ModelSdk.Architecture;
using ModelSdk.Compression.Passes;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Calibration;

/// <summary>Where a linear layer of a Llama block takes its input from; the matrices reading the same input share it.</summary>
public enum LinearInput
{
    /// <summary>RMSNorm(x) · attention_norm: read by wq, wk, wv.</summary>
    Attention,

    /// <summary>The concatenated attention heads: read by wo.</summary>
    AttentionOutput,

    /// <summary>RMSNorm(x) · ffn_norm: read by w1 (gate) and w3 (up).</summary>
    Ffn,

    /// <summary>silu(w1 x) · (w3 x): read by w2.</summary>
    FfnHidden,
}

/// <summary>The linear layers of a Llama block: which input each reads and its shape.</summary>
public enum LinearKind { Wq, Wk, Wv, Wo, W1, W2, W3 }

public static class LlamaLinears
{
    public static readonly IReadOnlyList<LinearKind> All = [LinearKind.Wq, LinearKind.Wk, LinearKind.Wv, LinearKind.Wo, LinearKind.W1, LinearKind.W2, LinearKind.W3];

    /// <summary>The linears reading <paramref name="input"/>, in the order the reference quantizes them.</summary>
    public static IReadOnlyList<LinearKind> Reading(LinearInput input) => input switch
    {
        LinearInput.Attention => [LinearKind.Wq, LinearKind.Wk, LinearKind.Wv],
        LinearInput.AttentionOutput => [LinearKind.Wo],
        LinearInput.Ffn => [LinearKind.W1, LinearKind.W3],
        _ => [LinearKind.W2],
    };

    /// <summary>(rows, cols) = (outputs, inputs) of a linear.</summary>
    public static (int Rows, int Cols) Shape(LinearKind kind, LlamaConfig c) => kind switch
    {
        LinearKind.Wq or LinearKind.Wo => (c.Dim, c.Dim),
        LinearKind.Wk or LinearKind.Wv => (c.KvDim, c.Dim),
        LinearKind.W1 or LinearKind.W3 => (c.HiddenDim, c.Dim),
        _ => (c.Dim, c.HiddenDim),
    };

    public static string TensorName(LinearKind kind, int layer) => kind switch
    {
        LinearKind.Wq => TensorNames.Wq(layer),
        LinearKind.Wk => TensorNames.Wk(layer),
        LinearKind.Wv => TensorNames.Wv(layer),
        LinearKind.Wo => TensorNames.Wo(layer),
        LinearKind.W1 => TensorNames.W1(layer),
        LinearKind.W2 => TensorNames.W2(layer),
        _ => TensorNames.W3(layer),
    };
}

/// <summary>One Llama block's weights in fp32 (row-major outputs × inputs), mutable: passes replace matrices as they go.</summary>
public sealed class LlamaLayerWeights
{
    public required float[] AttentionNorm { get; set; }
    public required float[] Wq { get; set; }
    public required float[] Wk { get; set; }
    public required float[] Wv { get; set; }
    public required float[] Wo { get; set; }
    public required float[] FfnNorm { get; set; }
    public required float[] W1 { get; set; }
    public required float[] W2 { get; set; }
    public required float[] W3 { get; set; }

    public float[] this[LinearKind kind]
    {
        get => kind switch
        {
            LinearKind.Wq => Wq, LinearKind.Wk => Wk, LinearKind.Wv => Wv, LinearKind.Wo => Wo,
            LinearKind.W1 => W1, LinearKind.W2 => W2, _ => W3,
        };
        set
        {
            switch (kind)
            {
                case LinearKind.Wq: Wq = value; break;
                case LinearKind.Wk: Wk = value; break;
                case LinearKind.Wv: Wv = value; break;
                case LinearKind.Wo: Wo = value; break;
                case LinearKind.W1: W1 = value; break;
                case LinearKind.W2: W2 = value; break;
                default: W3 = value; break;
            }
        }
    }

    /// <summary>Block <paramref name="layer"/>'s weights of <paramref name="model"/> as fp32 copies (packed or sparse matrices decoded).</summary>
    public static LlamaLayerWeights Load(WorkingModel model, int layer) => new()
    {
        AttentionNorm = model.GetFloats(TensorNames.AttentionNorm(layer)),
        Wq = model.GetFloats(TensorNames.Wq(layer)),
        Wk = model.GetFloats(TensorNames.Wk(layer)),
        Wv = model.GetFloats(TensorNames.Wv(layer)),
        Wo = model.GetFloats(TensorNames.Wo(layer)),
        FfnNorm = model.GetFloats(TensorNames.FfnNorm(layer)),
        W1 = model.GetFloats(TensorNames.W1(layer)),
        W2 = model.GetFloats(TensorNames.W2(layer)),
        W3 = model.GetFloats(TensorNames.W3(layer)),
    };

    /// <summary>A deep copy.</summary>
    public LlamaLayerWeights Clone() => new()
    {
        AttentionNorm = (float[])AttentionNorm.Clone(), Wq = (float[])Wq.Clone(), Wk = (float[])Wk.Clone(), Wv = (float[])Wv.Clone(),
        Wo = (float[])Wo.Clone(), FfnNorm = (float[])FfnNorm.Clone(), W1 = (float[])W1.Clone(), W2 = (float[])W2.Clone(), W3 = (float[])W3.Clone(),
    };
}
