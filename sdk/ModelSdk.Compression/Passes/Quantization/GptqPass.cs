using System.Diagnostics;
using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// GPTQ over a whole Llama model (<see cref="GptqQuantizer"/> per matrix), sequential as the reference implementation's
/// <c>--true-sequential</c> mode: the calibration sequences run through the model layer by layer in fp32
/// (<see cref="CalibrationForward"/>); inside a layer, wq/wk/wv are quantized on their shared input (the attention
/// RMSNorm's output), then the attention output is computed with the quantized wq/wk/wv and wo is quantized on it, then
/// w1/w3 on the FFN RMSNorm's output after the quantized wo, then w2 on the SwiGLU output after the quantized w1/w3. The
/// next layer receives the output of the fully quantized layer, so every matrix is fitted to the inputs the quantized model
/// will really give it. One Hessian H = 2 X Xᵀ / n (double) per input, shared by the matrices reading it.
/// <para>
/// The token embedding / classifier (one matrix in stories15M) is quantized first by round-to-nearest, as in the RTN
/// baseline (GPTQ's reference leaves it unquantized; the runtime looks embedding rows up in it, which a classifier-only
/// fit would ignore), and the calibration forward starts from the quantized embedding.
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

    internal bool ClassifierByGptq { get; init; } = Environment.GetEnvironmentVariable("LAB_CLS") == "gptq";

    internal double ClassifierDamping { get; init; } = double.Parse(Environment.GetEnvironmentVariable("LAB_CLS_DAMP") ?? "0.01", CultureInfo.InvariantCulture);

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
        var settings = new GptqSettings(Damping: Damping, ActOrder: ActOrder,
            ScaleSearch: int.Parse(Environment.GetEnvironmentVariable("LAB_GRID") ?? "0", CultureInfo.InvariantCulture),
            MaxShrink: double.Parse(Environment.GetEnvironmentVariable("LAB_SHRINK") ?? "0.2", CultureInfo.InvariantCulture));

        var forward = new CalibrationForward(config, sequences, ct: ct);
        context.Log($"{Name}: {Format.Name}, {forward.Tokens} calibration tokens in {sequences.Count} sequences, {config.Layers} layers");
        var twoStreams = Environment.GetEnvironmentVariable("LAB_V2") == "1";
        var fpEmbedding = model.GetFloats(TensorNames.TokenEmbedding);
        var tiedFirst = twoStreams && QuantizeClassifier && Environment.GetEnvironmentVariable("LAB_TIED_FIRST") == "1";
        if (tiedFirst)
        {
            var pre = forward.Embed(fpEmbedding);
            for (var layer = 0; layer < config.Layers; layer++) forward.Layer(pre, LoadLayer(model, layer));
            QuantizeVocabulary(model, forward, forward.RmsNorm(pre, model.GetFloats(TensorNames.FinalNorm)), settings, context);
        }
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        var xFp = twoStreams ? forward.Embed(fpEmbedding) : null;
        var steps = config.Layers * 4;
        var step = 0;
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var layerClock = Stopwatch.StartNew();
            var weights = LoadLayer(model, layer);
            Dictionary<LinearInput, Activations>? fpInputs = null;
            Dictionary<LinearInput, Activations> fpResidual = [];
            if (xFp is not null)
            {
                fpInputs = [];
                forward.Layer(xFp, LoadLayer(model, layer), (input, activations) =>
                {
                    fpInputs[input] = activations;
                    if (input is LinearInput.AttentionOutput or LinearInput.FfnHidden) fpResidual[input] = xFp.Clone();
                });
            }
            double error = 0;
            var dead = 0;
            forward.Layer(x, weights, (input, activations) =>
            {
                if (Environment.GetEnvironmentVariable("LAB_SKIP_LAYERS") == "1") return;
                var hessian = forward.Gram(activations);
                var n = activations.Width;
                double[]? map = null;
                double[]? residualCross = null;
                double[]? inverseH = null;
                if (fpInputs is not null)
                {
                    // V = W · C · (H̃ + λI)⁻¹ with C = X X̃ᵀ: the least-squares weights on the quantized stream's inputs
                    var cross = forward.CrossGram(fpInputs[input], activations);
                    if (Environment.GetEnvironmentVariable("LAB_RESID") == "1" && input is LinearInput.AttentionOutput or LinearInput.FfnHidden)
                    {
                        var diff = fpResidual[input].Clone();
                        for (var i = 0; i < diff.Data.Length; i++) diff.Data[i] -= x.Data[i];
                        residualCross = forward.CrossGram(diff, activations); // dim × n: E X̃ᵀ
                    }
                    else residualCross = null;
                    var damped = (double[])hessian.Clone();
                    double mean = 0;
                    for (var i = 0; i < n; i++) mean += damped[i * n + i];
                    mean /= n;
                    for (var i = 0; i < n; i++) damped[i * n + i] += Damping * mean;
                    var inverse = ModelSdk.Compression.LinearAlgebra.Cholesky.TryInverse(damped, n)!;
                    inverseH = inverse;
                    for (var i = 0; i < cross.Length; i++) cross[i] -= hessian[i]; // C − H̃ = Σ (x − x̃) x̃ᵀ
                    map = ModelSdk.Compression.LinearAlgebra.DenseDouble.Multiply(cross, inverse, n, n, n);
                }
                var scale = 2.0 / activations.Tokens;
                for (var i = 0; i < hessian.Length; i++) hessian[i] *= scale;
                foreach (var kind in LlamaLinears.Reading(input))
                {
                    if (Environment.GetEnvironmentVariable("LAB_ONLY") is { } only && !only.Split(',').Contains(kind.ToString().ToLowerInvariant())) continue;
                    var (rows, cols) = LlamaLinears.Shape(kind, config);
                    var w = weights[kind];
                    if (map is not null)
                    {
                        var wd = new double[w.Length];
                        for (var i = 0; i < w.Length; i++) wd[i] = w[i];
                        var vd = ModelSdk.Compression.LinearAlgebra.DenseDouble.Multiply(wd, map, rows, cols, cols);
                        if (residualCross is not null)
                        {
                            var fix = ModelSdk.Compression.LinearAlgebra.DenseDouble.Multiply(residualCross, inverseH!, rows, cols, cols);
                            for (var i = 0; i < vd.Length; i++) vd[i] += fix[i];
                        }
                        var v = new float[w.Length];
                        for (var i = 0; i < w.Length; i++) v[i] = (float)(w[i] + vd[i]);
                        w = v;
                    }
                    var result = GptqQuantizer.Quantize(w, rows, cols, hessian, Format, settings, ct);
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

        if (QuantizeClassifier && !tiedFirst)
            QuantizeVocabulary(model, forward, forward.RmsNorm(x, model.GetFloats(TensorNames.FinalNorm)), settings, context);
        context.Log($"{Name}: done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private void QuantizeVocabulary(WorkingModel model, CalibrationForward forward, Activations hidden, GptqSettings settings, PassContext context)
    {
        var config = model.Config;
        var name = config.SharedClassifier ? TensorNames.TokenEmbedding : TensorNames.Classifier;
        var tensor = model[name];
        if (ClassifierByGptq)
        {
            var hessian = forward.Gram(hidden);
            var scale = 2.0 / hidden.Tokens;
            for (var i = 0; i < hessian.Length; i++) hessian[i] *= scale;
            var result = GptqQuantizer.Quantize(model.GetFloats(name), tensor.Rows, tensor.Cols, hessian, Format,
                settings with { Damping = ClassifierDamping, ActOrder = false }, context.CancellationToken);
            model.SetPacked(name, result.Packed);
            context.Log($"{Name}: classifier quantized (GPTQ loss {result.Error.ToString("G4", CultureInfo.InvariantCulture)})");
        }
        else
        {
            model.SetPacked(name, PackedTensor.QuantizeRtn(Format, model.GetFloats(name), tensor.Rows, tensor.Cols));
        }
        if (!config.SharedClassifier)
        {
            var embedding = model[TensorNames.TokenEmbedding];
            model.SetPacked(embedding.Name, PackedTensor.QuantizeRtn(Format, model.GetFloats(embedding.Name), embedding.Rows, embedding.Cols));
        }
    }

    internal static LlamaLayerWeights LoadLayer(WorkingModel model, int layer) => new()
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

    public override int Version => 1;

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

    public override int Version => 1;
}
