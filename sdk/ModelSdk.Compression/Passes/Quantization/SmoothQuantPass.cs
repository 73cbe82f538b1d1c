using System.Diagnostics;
using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Diagnostics;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// <c>smoothquant-w8a8</c>: SmoothQuant (Xiao et al., 2023) for Llama blocks, then W8A8. Layer by layer on the fp32
/// model's calibration activations (<see cref="CalibrationForward"/>):
/// <list type="number">
/// <item>per input channel j of each smoothed input, s_j = max|X_j|^α / max|W_j|^(1−α) (<see cref="SmoothingScales"/>),
/// folded into the operation producing that input (<see cref="ChannelScaleFolding"/>) so the fp32 function is unchanged;</item>
/// <item>every matrix rounded to int8 with one scale per output row (<c>q8_row</c>); at run time the kernels quantize
/// each token's activations to int8 with one scale per token and multiply int8 by int8 (<see cref="TensorFormat.Int8Activations"/>).</item>
/// </list>
/// Which inputs are smoothed (<c>SmoothInputs</c>): <c>norms</c> (default, the paper's choice for Llama): the inputs
/// of wq/wk/wv and of w1/w3, divided through attention_norm and ffn_norm; <c>all</c>: also wo's input (divided through
/// wv's rows, the factors tied across the query heads of a kv head) and w2's (through w3's rows); <c>none</c>: plain W8A8,
/// the baseline that shows what smoothing buys. The token embedding / classifier is rounded without smoothing: a
/// factor cannot be folded into a matrix that is also the embedding table.
/// </summary>
public sealed class SmoothQuantPass(double alpha, string smoothInputs, bool quantizeClassifier) : IModelPass
{
    public const string AlphaOption = "Alpha";

    public const string SmoothInputsOption = "SmoothInputs";

    public const string SmoothNone = "none", SmoothNorms = "norms", SmoothAll = "all";

    public static IReadOnlyList<string> SmoothInputsChoices { get; } = [SmoothNorms, SmoothAll, SmoothNone];

    public static PassDescriptor Descriptor { get; } = new(
        "smoothquant-w8a8", "int8 weights per output channel and int8 activations per token, activation outliers smoothed into the weights on calibration data (Alpha 0..1, default 0.5; SmoothInputs norms/all/none, default norms)",
        [AlphaOption, SmoothInputsOption, QuantizationTargets.QuantizeClassifierOption],
        Create);

    private static SmoothQuantPass Create(PassOptions options)
    {
        var smooth = options.GetChoice(SmoothInputsOption, SmoothNorms, SmoothInputsChoices);
        if (smooth == SmoothNone && options.Has(AlphaOption))
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{AlphaOption} does not apply with {SmoothInputsOption}=\"{SmoothNone}\" (nothing is smoothed): remove {AlphaOption}, or smooth \"{SmoothNorms}\" or \"{SmoothAll}\".");
        return new SmoothQuantPass(options.GetDouble(AlphaOption, 0.5, 0, 1), smooth, options.GetBool(QuantizationTargets.QuantizeClassifierOption, true));
    }

    public string Name => Descriptor.Name;

    public int Version => 1;

    public TensorFormat Format { get; } = TensorFormats.Of(TensorType.Q8Row);

    /// <summary>Migration strength α in [0, 1].</summary>
    public double Alpha { get; } = alpha;

    /// <summary>Which inputs are smoothed: <see cref="SmoothNorms"/>, <see cref="SmoothAll"/> or <see cref="SmoothNone"/>.</summary>
    public string SmoothInputs { get; } = smoothInputs;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    /// <summary>Threads for the calibration forward (default: all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Alpha is left out when nothing is smoothed: it changes nothing then, so it must not change the cache key.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        .. SmoothInputs == SmoothNone ? [] : new KeyValuePair<string, string>[] { new(AlphaOption, Alpha.ToString("R", CultureInfo.InvariantCulture)) },
        new(SmoothInputsOption, SmoothInputs),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
    ];

    public bool NeedsCalibration => SmoothInputs != SmoothNone;

    public TensorType? MatrixType => Format.Type;

    public void Validate(LlamaConfig config) => QuantizationTargets.ValidateRowBlocks(config, Name);

    public void Run(WorkingModel model, PassContext context)
    {
        var clock = Stopwatch.StartNew();
        if (SmoothInputs != SmoothNone) Smooth(model, context);
        var targets = QuantizationTargets.Select(model, QuantizeClassifier);
        foreach (var name in targets)
        {
            var tensor = model[name];
            model.SetPacked(name, PackedTensor.QuantizeRtn(Format, model.GetFloats(name), tensor.Rows, tensor.Cols));
        }
        context.ReportProgress(Name, 1);
        context.Log($"{Name}: {targets.Count} matrices to {Format.Name} in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// The smoothing alone: folds the factors into the fp32 weights and norms of every layer, in place, leaving the model's
    /// function unchanged up to fp32 rounding (what the tests check); <see cref="Run"/> then quantizes.
    /// </summary>
    public void Smooth(WorkingModel model, PassContext context)
    {
        var config = model.Config;
        var forward = new CalibrationForward(config, context.Calibration.Sequences, Threads, context.CancellationToken);
        context.Log($"{Name}: α {Alpha.ToString(CultureInfo.InvariantCulture)}, smoothing the {SmoothInputs} inputs on {forward.Tokens} calibration tokens " +
            $"in {forward.Sequences.Count} sequences, {config.Layers} layers");
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var weights = LlamaLayerWeights.Load(model, layer);
            var ranges = new Dictionary<LinearInput, double[]>();
            forward.Layer(x, weights.Clone(), (input, activations) => ranges[input] = forward.MaxAbs(activations));
            var summary = SmoothLayer(config, weights, ranges);
            model.SetFloats(TensorNames.AttentionNorm(layer), weights.AttentionNorm);
            model.SetFloats(TensorNames.FfnNorm(layer), weights.FfnNorm);
            foreach (var kind in LlamaLinears.All) model.SetFloats(LlamaLinears.TensorName(kind, layer), weights[kind]);
            context.Log($"{Name}: layer {layer + 1}/{config.Layers}: largest channel range over median, before → after: {summary}");
            context.ReportProgress(Name, 0.9 * (layer + 1) / config.Layers);
        }
    }

    /// <summary>Computes and folds one layer's smoothing factors into <paramref name="w"/>; returns a one-line summary of the activation ranges.</summary>
    private string SmoothLayer(LlamaConfig c, LlamaLayerWeights w, Dictionary<LinearInput, double[]> ranges)
    {
        var inputs = SmoothInputs == SmoothAll
            ? new[] { LinearInput.Attention, LinearInput.AttentionOutput, LinearInput.Ffn, LinearInput.FfnHidden }
            : [LinearInput.Attention, LinearInput.Ffn];
        var parts = new List<string>();
        foreach (var input in inputs)
        {
            var activationMax = ranges[input];
            var readers = LlamaLinears.Reading(input).Select(k => w[k]).ToArray();
            var s = SmoothingScales.Compute(activationMax, SmoothingScales.ColumnMax(activationMax.Length, readers), Alpha);
            if (input == LinearInput.AttentionOutput) s = ChannelScaleFolding.TieAcrossKvGroups(s, c);
            switch (input)
            {
                case LinearInput.Attention: ChannelScaleFolding.FoldAttentionInput(c, w, s); break;
                case LinearInput.AttentionOutput: ChannelScaleFolding.FoldAttentionOutput(c, w, s); break;
                case LinearInput.Ffn: ChannelScaleFolding.FoldFfnInput(c, w, s); break;
                default: ChannelScaleFolding.FoldFfnHidden(c, w, s); break;
            }
            var smoothed = activationMax.Select((m, j) => m / s[j]).ToArray();
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{input} {Spread(activationMax):F1} → {Spread(smoothed):F1}"));
        }
        return string.Join(", ", parts);
    }

    /// <summary>Largest channel range over the median one: how much a per-token int8 step is set by outliers.</summary>
    private static double Spread(double[] ranges)
    {
        var sorted = ranges.Order().ToArray();
        var median = sorted[sorted.Length / 2];
        return median > 0 ? sorted[^1] / median : double.PositiveInfinity;
    }
}
