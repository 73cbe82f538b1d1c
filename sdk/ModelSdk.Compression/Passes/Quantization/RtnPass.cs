using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Round-to-nearest weight quantization into one packed format (<see cref="GroupQuantizer.QuantizeGroup"/>: ggml's
/// reference rules), each target matrix independently, rows in parallel. The base of <see cref="RtnInt8Pass"/> and <see cref="RtnInt4Pass"/>.
/// </summary>
public abstract class RtnPass(TensorFormat format, bool quantizeClassifier) : IModelPass
{
    public abstract string Name { get; }

    public abstract int Version { get; }

    public TensorFormat Format { get; } = format;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    public virtual IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
    ];

    public bool NeedsCalibration => false;

    public TensorType? MatrixType => Format.Type;

    public void Validate(LlamaConfig config) => QuantizationTargets.ValidateGroupSize(config, Format.GroupSize, Name);

    public void Run(WorkingModel model, PassContext context)
    {
        var targets = QuantizationTargets.Select(model, QuantizeClassifier);
        for (var i = 0; i < targets.Count; i++)
        {
            var tensor = model[targets[i]];
            model.SetPacked(tensor.Name, PackedTensor.QuantizeRtn(Format, model.GetFloats(tensor.Name), tensor.Rows, tensor.Cols));
            context.ReportProgress(Name, (i + 1.0) / targets.Count);
        }
    }
}

/// <summary><c>rtn-int8</c>: int8 symmetric, groups of GroupSize (32, 64, 128; default 32 = ggml's Q8_0 numbers), fp16 scales.</summary>
public sealed class RtnInt8Pass(int groupSize, bool quantizeClassifier)
    : RtnPass(TensorFormats.Find(8, groupSize, QuantScheme.Symmetric)!, quantizeClassifier)
{
    public static PassDescriptor Descriptor { get; } = new(
        "rtn-int8", "int8 weights, round to nearest, symmetric per group (GroupSize 32/64/128, default 32)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.QuantizeClassifierOption],
        options => new RtnInt8Pass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true)));

    public override string Name => Descriptor.Name;

    public override int Version => 1;
}

/// <summary>
/// <c>rtn-int4</c>: int4, round to nearest, groups of GroupSize (32, 64, 128; default 32), symmetric (ggml's Q4_0 rule,
/// default) or asymmetric with Symmetric="false" (min/max, ggml's Q4_1 rule).
/// </summary>
public sealed class RtnInt4Pass(int groupSize, bool symmetric, bool quantizeClassifier)
    : RtnPass(TensorFormats.Find(4, groupSize, symmetric ? QuantScheme.Symmetric : QuantScheme.Asymmetric)!, quantizeClassifier)
{
    public static PassDescriptor Descriptor { get; } = new(
        "rtn-int4", "int4 weights, round to nearest per group (GroupSize 32/64/128, default 32; Symmetric true/false, default true)",
        [QuantizationTargets.GroupSizeOption, QuantizationTargets.SymmetricOption, QuantizationTargets.QuantizeClassifierOption],
        options => new RtnInt4Pass(
            options.GetInt(QuantizationTargets.GroupSizeOption, 32, TensorFormats.GroupSizes),
            options.GetBool(QuantizationTargets.SymmetricOption, true),
            options.GetBool(QuantizationTargets.QuantizeClassifierOption, true)));

    public override string Name => Descriptor.Name;

    public override int Version => 1;

    public bool Symmetric => Format.Scheme == QuantScheme.Symmetric;

    public override IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(QuantizationTargets.GroupSizeOption, Format.GroupSize.ToString(CultureInfo.InvariantCulture)),
        new(QuantizationTargets.SymmetricOption, QuantizationTargets.Canonical(Symmetric)),
        new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier)),
    ];
}
