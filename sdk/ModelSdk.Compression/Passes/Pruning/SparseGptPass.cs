using ModelSdk.Compression.Calibration;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// <c>sparsegpt</c>: SparseGPT (<see cref="SparseGptPruner"/>) over a whole Llama model, sequential over the blocks
/// (<see cref="CalibratedPruningPass"/>), with one Hessian H = 2 X Xᵀ / n per input, shared by the matrices reading it.
/// With <see cref="JointQuantization"/> set (<c>JointQuantization="true"</c>, see <see cref="JointQuantizationOption"/>)
/// the sweep also quantizes the kept weights into the following <c>rtn-*</c> pass's format.
/// </summary>
public sealed class SparseGptPass(SparsityPattern pattern, PruningTargets targets) : CalibratedPruningPass(pattern, targets)
{
    public static PassDescriptor Descriptor { get; } = new(
        "sparsegpt", "prune with OBS weight reconstruction on calibration data (Sparsity 0.5 or N:M such as 2:4; PruneLayers; PruneClassifier; JointQuantization)",
        [.. PruningTargets.OptionNames, JointQuantizationOption.Name],
        options => Create(options, (pattern, targets) => new SparseGptPass(pattern, targets)));

    public override string Name => Descriptor.Name;

    public override int Version => 1;

    /// <summary>The symmetric packed format the kept weights are quantized to inside the sweep, or null (pruning only).</summary>
    public TensorFormat? JointQuantization { get; internal set; }

    public override IReadOnlyList<KeyValuePair<string, string>> Options
        => JointQuantization is { } format ? [.. base.Options, new(JointQuantizationOption.Name, format.Name)] : base.Options;

    protected override Func<float[], int, int, SparsityPattern, float[]> ForInput(CalibrationForward forward, Activations input, CancellationToken ct)
    {
        var hessian = forward.Gram(input);
        var scale = 2.0 / input.Tokens;
        for (var i = 0; i < hessian.Length; i++) hessian[i] *= scale;
        return (weights, rows, cols, pattern) => SparseGptPruner.Prune(weights, rows, cols, hessian, pattern, ct: ct, quantization: JointQuantization).Pruned;
    }
}
