using System.Diagnostics;
using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.LinearAlgebra;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// GPTQ over a whole Llama model (<see cref="GptqQuantizer"/> per matrix), sequential as the reference implementation's
/// <c>--true-sequential</c> mode: the calibration sequences run through the model layer by layer
/// (<see cref="CalibrationForward"/>); inside a layer, wq/wk/wv are quantized on their shared input (the attention
/// RMSNorm's output), then the attention output is computed with the quantized wq/wk/wv and wo is quantized on it, then
/// w1/w3 on the FFN RMSNorm's output after the quantized wo, then w2 on the SwiGLU output after the quantized w1/w3. The
/// next layer receives the output of the fully quantized layer, so every matrix is fitted to the inputs the quantized model
/// will really give it. One Hessian H = 2 X̃ X̃ᵀ / n (double) per input, shared by the matrices reading it.
/// <para>
/// The fp32 model runs alongside on the same sequences, and each matrix is quantized towards
/// <see cref="OutputMatching"/>'s target rather than its own fp32 weights: what reproduces the fp32 layer's output (and,
/// for wo and w2, the fp32 residual stream) on the quantized model's inputs. On stories15M (int4, group 32) this took the
/// KL divergence to fp32 on 15 held-out stories from 0.066 (plain sequential GPTQ) to 0.052; see the README.
/// </para>
/// <para>
/// The token embedding / classifier (one matrix in stories15M) is quantized first, by <see cref="VocabularyQuantizer"/>
/// (least-squares group parameters: the runtime also looks embedding rows up in it, which a classifier-only fit would
/// ignore; GPTQ's reference leaves it unquantized), and the quantized model's stream starts from it.
/// </para>
/// </summary>
public abstract class GptqPass(TensorFormat format, bool quantizeClassifier, bool actOrder, double damping) : IModelPass
{
    public const string ActOrderOption = "ActOrder";

    public const string DampingOption = "Damping";

    public abstract string Name { get; }

    public abstract int Version { get; }

    public TensorFormat Format { get; } = format;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    public bool ActOrder { get; } = actOrder;

    public double Damping { get; } = damping;

    public virtual IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
        new(ActOrderOption, QuantizationTargets.Canonical(ActOrder)),
        new(DampingOption, Damping.ToString("R", CultureInfo.InvariantCulture)),
    ];

    public bool NeedsCalibration => true;

    public TensorType? MatrixType => Format.Type;

    public void Validate(LlamaConfig config) => QuantizationTargets.ValidateGroupSize(config, Format.GroupSize, Name);

    public void Run(WorkingModel model, PassContext context)
    {
        var clock = Stopwatch.StartNew();
        var config = model.Config;
        var ct = context.CancellationToken;
        var sequences = context.Calibration.Sequences;
        var settings = new GptqSettings(Damping: Damping, ActOrder: ActOrder);
        var forward = new CalibrationForward(config, sequences, ct: ct);
        context.Log($"{Name}: {Format.Name}, {forward.Tokens} calibration tokens in {sequences.Count} sequences, {config.Layers} layers");

        // The embedding is quantized first, so every layer is fitted on the inputs the quantized model really gives it:
        // the wo/w2 residual matching then also absorbs the embedding's rounding.
        var embedding = model.GetFloats(TensorNames.TokenEmbedding);
        var x = forward.Embed(QuantizeClassifier ? VocabularyQuantizer.Quantize(model, Format) : embedding); // the quantized model's residual stream
        if (QuantizeClassifier) context.Log($"{Name}: embedding/classifier quantized in {clock.Elapsed.TotalSeconds:F1} s");
        var reference = forward.Embed(embedding); // the fp32 model's
        var steps = config.Layers * 4;
        var step = 0;
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var layerClock = Stopwatch.StartNew();
            var fp32 = OutputMatching.Reference(forward, reference, LlamaLayerWeights.Load(model, layer));

            double error = 0;
            var dead = 0;
            var weights = LlamaLayerWeights.Load(model, layer);
            forward.Layer(x, weights, (input, activations) =>
            {
                var gram = forward.Gram(activations);
                var (drift, residual) = OutputMatching.Corrections(forward, fp32, input, activations, gram, x, Damping);
                var hessian = gram;
                var scale = 2.0 / activations.Tokens;
                for (var i = 0; i < hessian.Length; i++) hessian[i] *= scale;
                foreach (var kind in LlamaLinears.Reading(input))
                {
                    var (rows, cols) = LlamaLinears.Shape(kind, config);
                    var target = OutputMatching.Target(weights[kind], rows, cols, drift, residual);
                    var result = GptqQuantizer.Quantize(target, rows, cols, hessian, Format, settings, ct);
                    model.SetPacked(LlamaLinears.TensorName(kind, layer), result.Packed);
                    weights[kind] = result.Dequantized;
                    error += result.Error;
                    dead += result.DeadColumns;
                }
                context.ReportProgress(Name, ++step / (double)steps);
            });
            context.Log($"{Name}: layer {layer + 1}/{config.Layers} quantized in {layerClock.Elapsed.TotalSeconds:F1} s " +
                $"(GPTQ loss {error.ToString("G4", CultureInfo.InvariantCulture)}{(dead > 0 ? $", {dead} dead input channels" : "")})");
        }

        context.Log($"{Name}: done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private protected static bool ParseActOrder(PassOptions options) => options.GetBool(ActOrderOption, false);

    private protected static double ParseDamping(PassOptions options) => options.GetDouble(DampingOption, 0.01, 1e-6, 1);
}

/// <summary>
/// <c>gptq-int4</c>: GPTQ into int4 groups of GroupSize (32, 64, 128; default 32), symmetric (ggml's Q4_0 grid, default)
/// or asymmetric with Symmetric="false" (Q4_1 grid), fp16 group parameters; ActOrder, Damping (default 1%).
/// </summary>
public sealed class GptqInt4Pass(int groupSize, bool symmetric, bool quantizeClassifier, bool actOrder, double damping)
    : GptqPass(TensorFormats.Find(4, groupSize, symmetric ? QuantScheme.Symmetric : QuantScheme.Asymmetric)!, quantizeClassifier, actOrder, damping)
{
    public static PassDescriptor Descriptor { get; } = new(
        "gptq-int4", "int4 weights by GPTQ on calibration data (GroupSize 32/64/128, default 32; Symmetric, default true; ActOrder; Damping, default 1%)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.SymmetricOption, QuantizationTargets.QuantizeClassifierOption, ActOrderOption, DampingOption],
        options => new GptqInt4Pass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.SymmetricOption, true),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true),
            ParseActOrder(options),
            ParseDamping(options)));

    public override string Name => Descriptor.Name;

    public override int Version => 2;

    public bool Symmetric => Format.Scheme == QuantScheme.Symmetric;

    public override IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.SymmetricOption, QuantizationTargets.Canonical(Symmetric)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
        new(ActOrderOption, QuantizationTargets.Canonical(ActOrder)),
        new(DampingOption, Damping.ToString("R", CultureInfo.InvariantCulture)),
    ];
}

/// <summary><c>gptq-int8</c>: GPTQ into int8 symmetric groups of GroupSize (32, 64, 128; default 32 = ggml's Q8_0 grid), fp16 scales.</summary>
public sealed class GptqInt8Pass(int groupSize, bool quantizeClassifier, bool actOrder, double damping)
    : GptqPass(TensorFormats.Find(8, groupSize, QuantScheme.Symmetric)!, quantizeClassifier, actOrder, damping)
{
    public static PassDescriptor Descriptor { get; } = new(
        "gptq-int8", "int8 weights by GPTQ on calibration data (GroupSize 32/64/128, default 32; ActOrder; Damping, default 1%)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.QuantizeClassifierOption, ActOrderOption, DampingOption],
        options => new GptqInt8Pass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true),
            ParseActOrder(options),
            ParseDamping(options)));

    public override string Name => Descriptor.Name;

    public override int Version => 2;
}
