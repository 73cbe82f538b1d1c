using ModelSdk.Architecture;
using ModelSdk.Compression.Passes;
using ModelSdk.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelSdk.Distillation.Student;

/// <summary>
/// The Llama decoder of the runtime (llama2.c's forward: RMSNorm, RoPE on interleaved pairs, grouped-query causal
/// attention, SwiGLU, shared or separate classifier) as a batched TorchSharp graph over a <see cref="WorkingModel"/>'s
/// tensors, for training with autograd. Its logits equal the runtime's fp32 logits up to float rounding.
/// </summary>
public sealed class TorchLlama : IDisposable
{
    private readonly Dictionary<string, StudentWeight> _weights = new(StringComparer.Ordinal);

    /// <summary>A model over <paramref name="model"/>'s tensors; every tensor trainable or none.</summary>
    public TorchLlama(WorkingModel model, bool trainable) : this(model, _ => trainable)
    {
    }

    /// <summary>A model over <paramref name="model"/>'s tensors, training those <paramref name="trainable"/> names.</summary>
    public TorchLlama(WorkingModel model, Func<string, bool> trainable)
    {
        Config = model.Config;
        foreach (var name in model.TensorNames)
            if (name != TensorNames.Classifier || !Config.SharedClassifier)
                _weights[name] = StudentWeight.From(model, name, trainable(name));
        Parameters = _weights.Values.SelectMany(w => w.Parameters).ToArray();
    }

    public LlamaConfig Config { get; }

    /// <summary>Every trainable parameter (empty for a frozen model).</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    /// <summary>The number of trainable values.</summary>
    public long TrainableValues => Parameters.Sum(p => p.numel());

    /// <summary>Logits [batch, length, vocab] for token ids [batch, length] at positions 0..length-1.</summary>
    public Tensor Forward(Tensor tokens)
    {
        var c = Config;
        long batch = tokens.shape[0], length = tokens.shape[1];
        int headSize = c.HeadSize, kvRepeat = c.Heads / c.KvHeads;
        using var scope = NewDisposeScope();
        var (cos, sin) = RopeTables((int)length);
        using var causal = ones(length, length, ScalarType.Bool).triu(1);

        var x = Weight(TensorNames.TokenEmbedding).index_select(0, tokens.flatten()).view(batch, length, c.Dim);
        for (var l = 0; l < c.Layers; l++)
        {
            var h = RmsNorm(x, Weight(TensorNames.AttentionNorm(l)));
            var q = Rope(F.linear(h, Weight(TensorNames.Wq(l))).view(batch, length, c.Heads, headSize), cos, sin).transpose(1, 2);
            var k = Rope(F.linear(h, Weight(TensorNames.Wk(l))).view(batch, length, c.KvHeads, headSize), cos, sin).transpose(1, 2);
            var v = F.linear(h, Weight(TensorNames.Wv(l))).view(batch, length, c.KvHeads, headSize).transpose(1, 2);
            if (kvRepeat > 1)
            {
                k = k.repeat_interleave(kvRepeat, 1);
                v = v.repeat_interleave(kvRepeat, 1);
            }
            var scores = q.matmul(k.transpose(2, 3)).div(MathF.Sqrt(headSize)).masked_fill(causal, float.NegativeInfinity);
            var attention = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(batch, length, c.Dim);
            x = x + F.linear(attention, Weight(TensorNames.Wo(l)));

            h = RmsNorm(x, Weight(TensorNames.FfnNorm(l)));
            var gate = F.silu(F.linear(h, Weight(TensorNames.W1(l)))) * F.linear(h, Weight(TensorNames.W3(l)));
            x = x + F.linear(gate, Weight(TensorNames.W2(l)));
        }
        x = RmsNorm(x, Weight(TensorNames.FinalNorm));
        var classifier = Weight(c.SharedClassifier ? TensorNames.TokenEmbedding : TensorNames.Classifier);
        return F.linear(x, classifier).MoveToOuterDisposeScope();
    }

    /// <summary>Writes every trained parameter back into <paramref name="model"/> (same names, same formats).</summary>
    public void ExportTo(WorkingModel model)
    {
        foreach (var weight in _weights.Values)
            if (weight.Parameters.Count > 0) weight.ExportTo(model);
    }

    private Tensor Weight(string name) => _weights[name].Value();

    private Tensor RmsNorm(Tensor x, Tensor weight)
        => x * x.pow(2).mean([-1], keepdim: true).add(Config.NormEps).rsqrt() * weight;

    /// <summary>Rotates interleaved pairs (i, i+1) of each head by pos · θ^(−i/headSize), as llama2.c does.</summary>
    private static Tensor Rope(Tensor x, Tensor cos, Tensor sin)
    {
        var pairs = x.view([.. x.shape[..^1], x.shape[^1] / 2, 2]);
        var (even, odd) = (pairs.select(-1, 0), pairs.select(-1, 1));
        return stack([even * cos - odd * sin, even * sin + odd * cos], -1).view(x.shape);
    }

    /// <summary>cos and sin [length, 1, headSize/2], computed in fp32 exactly as the runtime's reference RoPE.</summary>
    private (Tensor Cos, Tensor Sin) RopeTables(int length)
    {
        var half = Config.HeadSize / 2;
        var cos = new float[length * half];
        var sin = new float[length * half];
        for (var pos = 0; pos < length; pos++)
            for (var j = 0; j < half; j++)
            {
                var angle = pos * (1.0f / MathF.Pow(Config.RopeTheta, 2 * j / (float)Config.HeadSize));
                cos[pos * half + j] = MathF.Cos(angle);
                sin[pos * half + j] = MathF.Sin(angle);
            }
        return (tensor(cos, [length, 1, half]), tensor(sin, [length, 1, half]));
    }

    public void Dispose()
    {
        foreach (var weight in _weights.Values) weight.Dispose();
    }
}
