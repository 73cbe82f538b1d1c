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
    public const string CompressedStorage = "compressed";

    public const string DenseStorage = "dense";
    /// <summary>The literature's usual setting, when Sparsity is not given.</summary>
    public const double DefaultRatio = 0.5;

    public abstract string Name { get; }

    public abstract int Version { get; }

    public SparsityPattern Pattern { get; } = pattern;

    public PruningTargets Targets { get; } = targets;

    /// <summary>
    /// Whether 2:4 sparse matrices are stored compressed (<see cref="Sparse24StoragePass"/>, the default) or dense. Applies
    /// when <see cref="Pattern"/> is 2:4 and every block matrix is pruned; other patterns are always stored dense.
    /// </summary>
    public bool CompressedSparseStorage { get; private set; } = true;

    /// <summary>True when this pass leaves every block matrix 2:4 sparse (what the compressed layout can hold).</summary>
    public bool MakesEveryLayerMatrix24 => Pattern is { Kept: 2, GroupSize: 4 } && Targets.Layers.Count == 0;

    public virtual IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new(PruningTargets.SparsityOption, Pattern.ToString()),
        new(PruningTargets.PruneLayersOption, Targets.LayersText),
        new(PruningTargets.PruneClassifierOption, QuantizationTargets.Canonical(Targets.IncludeClassifier)),
        new(PruningTargets.SparseStorageOption, CompressedSparseStorage ? CompressedStorage : DenseStorage),
    ];

    public abstract bool NeedsCalibration { get; }

    public TensorType? MatrixType => null;

    public void Validate(LlamaConfig config) => Targets.Validate(config, Pattern, Name);

    public abstract void Run(WorkingModel model, PassContext context);

    /// <summary>Reads the shared options (Sparsity, PruneLayers, PruneClassifier) and creates the pass.</summary>
    private protected static T Create<T>(PassOptions options, Func<SparsityPattern, PruningTargets, T> create) where T : PruningPass
    {
        var text = options.GetString(PruningTargets.SparsityOption);
        var pattern = text is null ? SparsityPattern.Unstructured(DefaultRatio) : SparsityPattern.Parse(text);
        var storage = options.GetChoice(PruningTargets.SparseStorageOption, CompressedStorage, [CompressedStorage, DenseStorage]);
        var pass = create(pattern, PruningTargets.Parse(options));
        pass.CompressedSparseStorage = storage == CompressedStorage;
        return pass;
    }
}
