using System.Diagnostics;
using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// <c>awq-int4</c>: AWQ's activation-aware scales as llm-awq applies them to Llama blocks, quantized sequentially with
/// output matching and output-weighted group parameters. Per layer:
/// <list type="number">
/// <item>the layer's inputs in the quantized model (the stream the already-quantized embedding and layers produce) are
/// taken with the layer's fp32 weights (<see cref="CalibrationForward"/>);</item>
/// <item>on them, four scale vectors are searched on the original weights, as llm-awq: wq/wk/wv on the attention
/// block's output (attention and wo included), folded into attention_norm; wo, folded into wv's rows (with grouped-query
/// attention the query heads sharing a kv head share their scales, <see cref="ChannelScaleFolding.TieAcrossKvGroups"/>);
/// w1/w3 on the MLP's output (w2 included), folded into ffn_norm; w2, folded into w3's rows;</item>
/// <item>the scaled layer (the same fp32 function) is then quantized input by input in the order the forward reaches
/// them, as GPTQ's sequential mode: each matrix aims at <see cref="OutputMatching"/>'s target (what reproduces the fp32
/// layer's output, and for wo and w2 the fp32 residual stream, on the inputs the quantized model gives it) and gets
/// group parameters fitted on that input's output error (<see cref="OutputWeightedGroupFit"/>; with Clip false, the
/// format's round-to-nearest rule); the next matrices see the quantized ones' output.</item>
/// </list>
/// The token embedding / classifier gets no scales (none can be folded into a matrix that is also the embedding table):
/// <see cref="VocabularyQuantizer"/> quantizes it first, with least-squares group parameters, and the quantized stream
/// starts from it.
/// </summary>
public sealed class AwqPass(int groupSize, bool symmetric, bool quantizeClassifier, bool clip, bool duoScaling = false) : IModelPass
{
    public const string ClipOption = "Clip";

    public const string DuoScalingOption = "DuoScaling";

    public static PassDescriptor Descriptor { get; } = new(
        "awq-int4", "int4 weights by AWQ (activation-aware scales, output-fitted group parameters) on calibration data (GroupSize 32/64/128, default 32; Symmetric, default true; Clip, default true; DuoScaling, default false)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.SymmetricOption, QuantizationTargets.QuantizeClassifierOption, ClipOption, DuoScalingOption],
        options => new AwqPass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.SymmetricOption, true),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true),
            options.GetBool(ClipOption, true),
            options.GetBool(DuoScalingOption, false)));

    public string Name => Descriptor.Name;

    public int Version => 3;

    public TensorFormat Format { get; } = TensorFormats.Find(4, groupSize, symmetric ? QuantScheme.Symmetric : QuantScheme.Asymmetric)!;

    public bool Symmetric => Format.Scheme == QuantScheme.Symmetric;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    /// <summary>Option Clip: group parameters (the clipping range) fitted on the output error; false rounds to nearest.</summary>
    public bool FitGroups { get; } = clip;

    /// <summary>Option DuoScaling: AutoAWQ's scales s = s_x^α / s_w^(1−α) (<see cref="AwqSearch.DuoScales"/>) instead of s_x^α.</summary>
    public bool DuoScaling { get; } = duoScaling;

    public AwqSettings Settings { get; init; } = new();

    public IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.SymmetricOption, QuantizationTargets.Canonical(Symmetric)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
        new(ClipOption, QuantizationTargets.Canonical(FitGroups)),
        new(DuoScalingOption, QuantizationTargets.Canonical(DuoScaling)),
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

        var embedding = model.GetFloats(TensorNames.TokenEmbedding);
        var reference = forward.Embed(embedding); // the fp32 model's residual stream
        var x = forward.Embed(QuantizeClassifier ? VocabularyQuantizer.Quantize(model, Format) : embedding); // the quantized model's
        if (QuantizeClassifier) context.Log($"{Name}: embedding/classifier quantized in {clock.Elapsed.TotalSeconds:F1} s");
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var layerClock = Stopwatch.StartNew();
            var weights = LlamaLayerWeights.Load(model, layer);
            var inputs = new Dictionary<LinearInput, Activations>();
            forward.Layer(x.Clone(), weights.Clone(), (input, activations) => inputs[input] = activations);
            var scales = SearchScales(config, forward, search, weights, inputs);
            inputs.Clear(); // the quantized layer below makes its own
            AwqSearch.ApplyScales(config, weights, scales[0].Scales, scales[1].Scales, scales[2].Scales, scales[3].Scales);
            QuantizeScaledLayer(model, layer, forward, weights, reference, x);
            model.SetFloats(TensorNames.AttentionNorm(layer), weights.AttentionNorm);
            model.SetFloats(TensorNames.FfnNorm(layer), weights.FfnNorm);
            context.Log($"{Name}: layer {layer + 1}/{config.Layers} in {layerClock.Elapsed.TotalSeconds:F1} s " +
                $"(α qkv {scales[0].Alpha:F2}, wo {scales[1].Alpha:F2}, w1/w3 {scales[2].Alpha:F2}, w2 {scales[3].Alpha:F2})");
            context.ReportProgress(Name, (layer + 1.0) / config.Layers);
        }
        context.Log($"{Name}: done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Quantizes the scaled layer <paramref name="w"/> input by input on the quantized stream <paramref name="x"/> (both
    /// streams move on to the next layer): each matrix towards its output-matching target, the forward continuing with
    /// the quantized matrices.
    /// </summary>
    private void QuantizeScaledLayer(WorkingModel model, int layer, CalibrationForward forward, LlamaLayerWeights w, Activations reference, Activations x)
    {
        var c = model.Config;
        var fp32 = OutputMatching.Reference(forward, reference, w.Clone());
        forward.Layer(x, w, (input, activations) =>
        {
            var gram = forward.Gram(activations);
            var (drift, residual) = OutputMatching.Corrections(forward, fp32, input, activations, gram, x, Settings.Damping);
            var h = Normalized(gram, activations.Tokens);
            foreach (var kind in LlamaLinears.Reading(input))
            {
                var (rows, cols) = LlamaLinears.Shape(kind, c);
                var target = OutputMatching.Target(w[kind], rows, cols, drift, residual);
                var packed = FitGroups
                    ? OutputWeightedGroupFit.Quantize(Format, target, rows, cols, h)
                    : PackedTensor.QuantizeRtn(Format, target, rows, cols);
                model.SetPacked(LlamaLinears.TensorName(kind, layer), packed);
                w[kind] = packed.Dequantize();
            }
        });
    }

    /// <summary>Searches one layer's four scale vectors (qkv input, wo input, w1/w3 input, w2 input) on its original weights.</summary>
    private (double Alpha, double[] Scales)[] SearchScales(LlamaConfig c, CalibrationForward forward, CalibrationForward search, LlamaLayerWeights original,
        Dictionary<LinearInput, Activations> inputs)
    {
        var f = Format;
        var grid = Settings.Grid;
        int dim = c.Dim, kvDim = c.KvDim, hidden = c.HiddenDim, g = f.GroupSize;
        Func<double, double[]> For(double[] meanAbs, params (float[] Weight, int Rows)[] readers)
        {
            if (!DuoScaling) return alpha => AwqSearch.Scales(meanAbs, alpha);
            var salience = AwqSearch.WeightSalience(meanAbs.Length, g, readers);
            return alpha => AwqSearch.DuoScales(meanAbs, salience, alpha);
        }

        // 1. wq, wk, wv on the attention block's output.
        var a = inputs[LinearInput.Attention];
        var aSearch = a.Prefix(search.Tokens);
        Activations AttentionBlock(float[] wq, float[] wk, float[] wv)
            => search.Linear(search.Attention(search.Linear(aSearch, wq, dim), search.Linear(aSearch, wk, kvDim), search.Linear(aSearch, wv, kvDim)), original.Wo, dim);
        var attentionReference = AttentionBlock(original.Wq, original.Wk, original.Wv);
        var qkv = AwqSearch.SearchAlpha(For(forward.MeanAbs(a), (original.Wq, dim), (original.Wk, kvDim), (original.Wv, kvDim)), grid, s => MeanSquaredDifference(attentionReference,
            AttentionBlock(AwqSearch.ScaledFakeQuantize(f, original.Wq, dim, dim, s), AwqSearch.ScaledFakeQuantize(f, original.Wk, kvDim, dim, s),
                AwqSearch.ScaledFakeQuantize(f, original.Wv, kvDim, dim, s))));

        // 2. wo, exactly through H = OᵀO / n; scales tied across the query heads of a kv head.
        var o = inputs[LinearInput.AttentionOutput];
        var ho = Normalized(forward.Gram(o), o.Tokens);
        var woScales = For(forward.MeanAbs(o), (original.Wo, dim));
        var wo = AwqSearch.SearchAlpha(alpha => ChannelScaleFolding.TieAcrossKvGroups(woScales(alpha), c), grid,
            s => AwqSearch.OutputError(original.Wo, AwqSearch.ScaledFakeQuantize(f, original.Wo, dim, dim, s), dim, dim, ho));

        // 3. w1, w3 on the MLP's output.
        var x = inputs[LinearInput.Ffn];
        var xSearch = x.Prefix(search.Tokens);
        Activations Mlp(float[] w1, float[] w3)
            => search.Linear(search.SwiGlu(search.Linear(xSearch, w1, hidden), search.Linear(xSearch, w3, hidden)), original.W2, dim);
        var mlpReference = Mlp(original.W1, original.W3);
        var mlp = AwqSearch.SearchAlpha(For(forward.MeanAbs(x), (original.W1, hidden), (original.W3, hidden)), grid, s => MeanSquaredDifference(mlpReference,
            Mlp(AwqSearch.ScaledFakeQuantize(f, original.W1, hidden, dim, s), AwqSearch.ScaledFakeQuantize(f, original.W3, hidden, dim, s))));

        // 4. w2, exactly through H = HᵀH / n.
        var h = inputs[LinearInput.FfnHidden];
        var hh = Normalized(forward.Gram(h), h.Tokens);
        var down = AwqSearch.SearchAlpha(For(forward.MeanAbs(h), (original.W2, dim)), grid,
            s => AwqSearch.OutputError(original.W2, AwqSearch.ScaledFakeQuantize(f, original.W2, dim, hidden, s), dim, hidden, hh));

        return [(qkv.Alpha, qkv.Scales), (wo.Alpha, wo.Scales), (mlp.Alpha, mlp.Scales), (down.Alpha, down.Scales)];
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
}
