using System.Diagnostics;
using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// <c>awq-int4</c>: AWQ as llm-awq applies it to Llama blocks, layer by layer on the fp32 model's activations
/// (<see cref="CalibrationForward"/>):
/// <list type="number">
/// <item>wq/wk/wv: scales searched on the attention block's output (attention and wo included), folded into attention_norm;</item>
/// <item>wo: scales folded into wv's rows; with grouped-query attention the query heads sharing a kv head share their
/// scales (<see cref="ChannelScaleFolding.TieAcrossKvGroups"/>), so the fold stays exact;</item>
/// <item>w1/w3: scales searched on the MLP's output (w2 included), folded into ffn_norm;</item>
/// <item>w2: scales folded into w3's rows (w2 reads silu(w1 x) · (w3 x), linear in w3's output);</item>
/// <item>then, on the scaled weights and scaled inputs, a clipping range per group (not for wq and wk);</item>
/// <item>then round-to-nearest into the packed format.</item>
/// </list>
/// All searches of a layer use its original weights, the scales are applied together afterwards, as in llm-awq. The
/// token embedding / classifier gets no scales (none can be folded into a matrix that is also the embedding table):
/// <see cref="VocabularyQuantizer"/> quantizes it with least-squares group parameters.
/// </summary>
public sealed class AwqPass(int groupSize, bool symmetric, bool quantizeClassifier, bool clip) : IModelPass
{
    public const string ClipOption = "Clip";

    public static PassDescriptor Descriptor { get; } = new(
        "awq-int4", "int4 weights by AWQ (activation-aware scales and clipping) on calibration data (GroupSize 32/64/128, default 32; Symmetric, default true; Clip, default true)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.SymmetricOption, QuantizationTargets.QuantizeClassifierOption, ClipOption],
        options => new AwqPass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.SymmetricOption, true),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true),
            options.GetBool(ClipOption, true)));

    public string Name => Descriptor.Name;

    public int Version => 2;

    public TensorFormat Format { get; } = TensorFormats.Find(4, groupSize, symmetric ? QuantScheme.Symmetric : QuantScheme.Asymmetric)!;

    public bool Symmetric => Format.Scheme == QuantScheme.Symmetric;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    public bool ClipWeights { get; } = clip;

    public AwqSettings Settings { get; init; } = new();

    public IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.SymmetricOption, QuantizationTargets.Canonical(Symmetric)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
        new(ClipOption, QuantizationTargets.Canonical(ClipWeights)),
    ];

    public bool NeedsCalibration => true;

    public TensorType? MatrixType => Format.Type;

    public void Validate(LlamaConfig config) => QuantizationTargets.ValidateGroupSize(config, Format.GroupSize, Name);

    public void Run(WorkingModel model, PassContext context)
    {
        var clock = Stopwatch.StartNew();
        var config = model.Config;
        var forward = new CalibrationForward(config, context.Calibration.Sequences, Settings.Threads, context.CancellationToken);
        var search = forward.Take(Settings.SearchSequences);
        context.Log($"{Name}: {Format.Name}, {forward.Tokens} calibration tokens in {forward.Sequences.Count} sequences " +
            $"(block searches on {search.Tokens} tokens), {config.Layers} layers");

        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var layerClock = Stopwatch.StartNew();
            var weights = LlamaLayerWeights.Load(model, layer);
            var inputs = new Dictionary<LinearInput, Activations>();
            forward.Layer(x, weights.Clone(), (input, activations) => inputs[input] = activations);
            var alphas = QuantizeLayer(config, forward, search, weights, inputs);
            foreach (var kind in LlamaLinears.All)
            {
                var (rows, cols) = LlamaLinears.Shape(kind, config);
                model.SetPacked(LlamaLinears.TensorName(kind, layer), PackedTensor.QuantizeRtn(Format, weights[kind], rows, cols));
            }
            model.SetFloats(TensorNames.AttentionNorm(layer), weights.AttentionNorm);
            model.SetFloats(TensorNames.FfnNorm(layer), weights.FfnNorm);
            context.Log($"{Name}: layer {layer + 1}/{config.Layers} in {layerClock.Elapsed.TotalSeconds:F1} s " +
                $"(α qkv {alphas[0]:F2}, wo {alphas[1]:F2}, w1/w3 {alphas[2]:F2}, w2 {alphas[3]:F2})");
            context.ReportProgress(Name, (layer + 1.0) / config.Layers);
        }

        if (QuantizeClassifier) VocabularyQuantizer.Quantize(model, Format);
        context.Log($"{Name}: done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Searches and applies one layer's scales (and clipping) to <paramref name="w"/>; returns the four α chosen.</summary>
    private double[] QuantizeLayer(LlamaConfig c, CalibrationForward forward, CalibrationForward search, LlamaLayerWeights w,
        Dictionary<LinearInput, Activations> inputs)
    {
        var f = Format;
        var grid = Settings.Grid;
        int dim = c.Dim, kvDim = c.KvDim, hidden = c.HiddenDim;
        var original = w.Clone();

        // 1. wq, wk, wv on the attention block's output.
        var a = inputs[LinearInput.Attention];
        var aSearch = a.Prefix(search.Tokens);
        Activations AttentionBlock(float[] wq, float[] wk, float[] wv)
            => search.Linear(search.Attention(search.Linear(aSearch, wq, dim), search.Linear(aSearch, wk, kvDim), search.Linear(aSearch, wv, kvDim)), original.Wo, dim);
        var attentionReference = AttentionBlock(original.Wq, original.Wk, original.Wv);
        var qkv = AwqSearch.SearchAlpha(forward.MeanAbs(a), grid, s => MeanSquaredDifference(attentionReference,
            AttentionBlock(AwqSearch.ScaledFakeQuantize(f, original.Wq, dim, dim, s), AwqSearch.ScaledFakeQuantize(f, original.Wk, kvDim, dim, s),
                AwqSearch.ScaledFakeQuantize(f, original.Wv, kvDim, dim, s))));

        // 2. wo, exactly through H = OᵀO / n; scales tied across the query heads of a kv head.
        var o = inputs[LinearInput.AttentionOutput];
        var ho = Normalized(forward.Gram(o), o.Tokens);
        var wo = AwqSearch.SearchAlpha(ChannelScaleFolding.TieAcrossKvGroups(forward.MeanAbs(o), c), grid,
            s => AwqSearch.OutputError(original.Wo, AwqSearch.ScaledFakeQuantize(f, original.Wo, dim, dim, s), dim, dim, ho));

        // 3. w1, w3 on the MLP's output.
        var x = inputs[LinearInput.Ffn];
        var xSearch = x.Prefix(search.Tokens);
        Activations Mlp(float[] w1, float[] w3)
            => search.Linear(search.SwiGlu(search.Linear(xSearch, w1, hidden), search.Linear(xSearch, w3, hidden)), original.W2, dim);
        var mlpReference = Mlp(original.W1, original.W3);
        var mlp = AwqSearch.SearchAlpha(forward.MeanAbs(x), grid, s => MeanSquaredDifference(mlpReference,
            Mlp(AwqSearch.ScaledFakeQuantize(f, original.W1, hidden, dim, s), AwqSearch.ScaledFakeQuantize(f, original.W3, hidden, dim, s))));

        // 4. w2, exactly through H = HᵀH / n.
        var h = inputs[LinearInput.FfnHidden];
        var hh = Normalized(forward.Gram(h), h.Tokens);
        var down = AwqSearch.SearchAlpha(forward.MeanAbs(h), grid,
            s => AwqSearch.OutputError(original.W2, AwqSearch.ScaledFakeQuantize(f, original.W2, dim, hidden, s), dim, hidden, hh));

        AwqSearch.ApplyScales(c, w, qkv.Scales, wo.Scales, mlp.Scales, down.Scales);

        if (ClipWeights)
        {
            // The inputs the scaled matrices see are x / s: H becomes diag(1/s) H diag(1/s).
            var ha = Normalized(forward.Gram(a), a.Tokens);
            var hx = Normalized(forward.Gram(x), x.Tokens);
            w.Wv = AwqSearch.Clip(f, w.Wv, kvDim, dim, Unscale(ha, qkv.Scales), Settings.ClipGrid, Settings.MaxShrink);
            w.Wo = AwqSearch.Clip(f, w.Wo, dim, dim, Unscale(ho, wo.Scales), Settings.ClipGrid, Settings.MaxShrink);
            var hxs = Unscale(hx, mlp.Scales);
            w.W1 = AwqSearch.Clip(f, w.W1, hidden, dim, hxs, Settings.ClipGrid, Settings.MaxShrink);
            w.W3 = AwqSearch.Clip(f, w.W3, hidden, dim, hxs, Settings.ClipGrid, Settings.MaxShrink);
            w.W2 = AwqSearch.Clip(f, w.W2, dim, hidden, Unscale(hh, down.Scales), Settings.ClipGrid, Settings.MaxShrink);
        }
        return [qkv.Alpha, wo.Alpha, mlp.Alpha, down.Alpha];
    }

    private static double MeanSquaredDifference(Activations reference, Activations value)
    {
        double sum = 0;
        for (var i = 0; i < reference.Data.Length; i++)
        {
            double d = reference.Data[i] - value.Data[i];
            sum += d * d;
        }
        return sum / reference.Data.Length;
    }

    private static double[] Normalized(double[] gram, int tokens)
    {
        for (var i = 0; i < gram.Length; i++) gram[i] /= Math.Max(1, tokens);
        return gram;
    }

    private static double[] Unscale(double[] h, double[] scales)
    {
        var n = scales.Length;
        var result = new double[h.Length];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) result[i * n + j] = h[i * n + j] / (scales[i] * scales[j]);
        return result;
    }
}
