using ModelSdk.Architecture;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary><c>f16</c>: the matrices in IEEE half precision (round to nearest even); norms stay fp32.</summary>
public sealed class F16Pass(bool quantizeClassifier) : IModelPass
{
    public static PassDescriptor Descriptor { get; } = new(
        "f16", "fp16 weights (half the size of fp32, quality practically unchanged)",
        [QuantizationTargets.QuantizeClassifierOption],
        options => new F16Pass(options.GetBool(QuantizationTargets.QuantizeClassifierOption, true)));

    public string Name => Descriptor.Name;

    public int Version => 1;

    public bool QuantizeClassifier { get; } = quantizeClassifier;

    public IReadOnlyList<KeyValuePair<string, string>> Options =>
        [new(QuantizationTargets.QuantizeClassifierOption, QuantizationTargets.Canonical(QuantizeClassifier))];

    public bool NeedsCalibration => false;

    public TensorType? MatrixType => TensorType.F16;

    public void Validate(LlamaConfig config)
    {
    }

    public void Run(WorkingModel model, PassContext context)
    {
        var targets = QuantizationTargets.Select(model, QuantizeClassifier);
        for (var i = 0; i < targets.Count; i++)
        {
            var values = model.GetFloats(targets[i]);
            var bits = new ushort[values.Length];
            Parallel.For(0, (values.Length + 65535) / 65536, block =>
            {
                var end = Math.Min(values.Length, (block + 1) * 65536);
                for (var j = block * 65536; j < end; j++) bits[j] = HalfBits.FromFloat(values[j]);
            });
            model.SetHalf(targets[i], bits);
            context.ReportProgress(Name, (i + 1.0) / targets.Count);
        }
    }
}
