using ModelSdk.Architecture;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// A pass that sets weights to zero (<c>Prune="..."</c>), leaving them fp32: a quantization pass declared after it
/// (<c>Quantize="..."</c>) stores the pruned matrices in its format. The options every pruning pass shares:
/// <c>Sparsity</c> (default 0.5, see <see cref="SparsityPattern"/>), <c>PruneLayers</c> and <c>PruneClassifier</c>
/// (see <see cref="PruningTargets"/>).
/// </summary>
public abstract class PruningPass(SparsityPattern pattern, PruningTargets targets) : IModelPass
{
    /// <summary>The literature's usual setting, when Sparsity is not given.</summary>
    public const double DefaultRatio = 0.5;

    public abstract string Name { get; }

    public abstract int Version { get; }

    public SparsityPattern Pattern { get; } = pattern;

    public PruningTargets Targets { get; } = targets;

    public virtual IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(PruningTargets.SparsityOption, Pattern.ToString()),
        new(PruningTargets.PruneLayersOption, Targets.LayersText),
        new(PruningTargets.PruneClassifierOption, QuantizationTargets.Canonical(Targets.IncludeClassifier)),
    ];

    public abstract bool NeedsCalibration { get; }

    public TensorType? MatrixType => null;

    public void Validate(LlamaConfig config) => Targets.Validate(config, Pattern, Name);

    public abstract void Run(WorkingModel model, PassContext context);

    /// <summary>Reads the shared options (Sparsity, PruneLayers, PruneClassifier).</summary>
    private protected static (SparsityPattern Pattern, PruningTargets Targets) ParseShared(PassOptions options)
    {
        var text = options.GetString(PruningTargets.SparsityOption);
        var pattern = text is null ? SparsityPattern.Unstructured(DefaultRatio) : SparsityPattern.Parse(text);
        return (pattern, PruningTargets.Parse(options));
    }
}
