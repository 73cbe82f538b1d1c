using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// Every pass a user can name, in one list: <c>Quantize="..."</c> (and <c>modelsdk compress --quantize ...</c>) picks one
/// by <see cref="PassDescriptor.Name"/>; its options come from the metadata names in <see cref="PassDescriptor.OptionNames"/>.
/// To add a pass: write the class with a static <c>Descriptor</c> and add it to <see cref="All"/>.
/// </summary>
public static class PassRegistry
{
    /// <summary>The value that means "no compression" (also the default).</summary>
    public const string None = "none";

    public static IReadOnlyList<PassDescriptor> All { get; } =
    [
        F16Pass.Descriptor,
        RtnInt8Pass.Descriptor,
        RtnInt4Pass.Descriptor,
        GptqInt8Pass.Descriptor,
        GptqInt4Pass.Descriptor,
        AwqPass.Descriptor,
        SmoothQuantPass.Descriptor,
    ];

    /// <summary>The pruning passes: <c>Prune="..."</c> (and <c>--prune</c>) picks one; it runs before the quantization pass.</summary>
    public static IReadOnlyList<PassDescriptor> Pruning { get; } =
    [
        MagnitudePruningPass.Descriptor,
        WandaPass.Descriptor,
        SparseGptPass.Descriptor,
    ];

    /// <summary>
    /// The passes that change the architecture, chosen by their options rather than by a name (<c>DropLayers="1"</c>,
    /// <c>LowRankRatio="0.5"</c>): they run first, in this order, so pruning and quantization see the final shape
    /// (drop-layers first: factorizing or quantizing a block that is then dropped would be wasted work).
    /// </summary>
    public static IReadOnlyList<PassDescriptor> Structural { get; } =
    [
        DropLayersPass.Descriptor,
        LowRankPass.Descriptor,
    ];

    /// <summary>Valid <c>Prune</c> values, <see cref="None"/> first.</summary>
    public static IReadOnlyList<string> PruningNames => [None, .. Pruning.Select(d => d.Name)];

    /// <summary>Valid <c>Quantize</c> values, <see cref="None"/> first.</summary>
    public static IReadOnlyList<string> Names => [None, .. All.Select(d => d.Name)];

    /// <summary>Every option name some pass reads (the Model item metadata they correspond to).</summary>
    public static IReadOnlyList<string> OptionNames => All.Concat(Pruning).Concat(Structural).SelectMany(d => d.OptionNames).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    public static PassDescriptor? Find(string name) => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The passes a <c>Quantize</c> value and its options ask for: empty for "none" (or no value). Unknown names are
    /// MSDK1011, bad or inapplicable options MSDK1012 — each listing the valid choices.
    /// </summary>
    public static IReadOnlyList<IModelPass> Create(string? quantize, PassOptions options)
    {
        var name = quantize?.Trim();
        if (string.IsNullOrEmpty(name) || string.Equals(name, None, StringComparison.OrdinalIgnoreCase))
        {
            if (options.Names.FirstOrDefault() is { } stray)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                    $"{stray} is set but no compression is: set Quantize to one of {string.Join(", ", Names.Skip(1))}, or remove {stray}.");
            return [];
        }
        var descriptor = Find(name)
            ?? throw new ModelSdkException(DiagnosticCodes.UnknownCompressionPass,
                $"Quantize=\"{name}\" is not a compression ModelSdk knows. Valid values: {string.Join(", ", Names)}.");
        var pass = descriptor.Create(options);
        if (options.Unread.FirstOrDefault() is { } unused)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{unused} does not apply to {descriptor.Name}" +
                (descriptor.OptionNames.Count == 0 ? ", which has no options." : $", whose options are {string.Join(", ", descriptor.OptionNames)}."));
        return [pass];
    }

    /// <summary>
    /// The pipeline a Model item declares, in the order it runs: the <see cref="Structural"/> passes whose options are set,
    /// then the <c>Prune</c> pass (if any), then the <c>Quantize</c> pass (if any), each reading its own options from
    /// <paramref name="options"/>. Pruning options without <c>Prune</c> (or quantization options without <c>Quantize</c>)
    /// are MSDK1012; unknown names MSDK1011.
    /// </summary>
    public static IReadOnlyList<IModelPass> CreatePipeline(string? prune, string? quantize, PassOptions options)
    {
        var pruningNames = Pruning.SelectMany(d => d.OptionNames).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var structuralNames = Structural.SelectMany(d => d.OptionNames).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var pruningOptions = Subset(options, pruningNames.Contains);
        var otherOptions = Subset(options, n => !pruningNames.Contains(n) && !structuralNames.Contains(n));
        var structural = CreateStructural(options);
        var pruning = CreatePruning(prune, pruningOptions);
        var quantization = Create(quantize, otherOptions);
        return [.. structural, .. pruning, .. quantization, .. Storage(pruning, quantization)];
    }

    private static PassOptions Subset(PassOptions options, Func<string, bool> include)
        => new(options.Names.Where(include).Select(n => new KeyValuePair<string, string>(n, options.GetString(n)!)));

    /// <summary>Each structural pass at least one of whose options is set, created from its options, in <see cref="Structural"/> order.</summary>
    private static IReadOnlyList<IModelPass> CreateStructural(PassOptions options)
    {
        var passes = new List<IModelPass>();
        foreach (var descriptor in Structural)
        {
            var own = Subset(options, n => descriptor.OptionNames.Contains(n, StringComparer.OrdinalIgnoreCase));
            if (!own.Names.Any()) continue;
            passes.Add(descriptor.Create(own));
            if (own.Unread.FirstOrDefault() is { } unused)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                    $"{unused} does not apply to {descriptor.Name}, whose options are {string.Join(", ", descriptor.OptionNames)}.");
        }
        return passes;
    }

    /// <summary>
    /// The compressed 2:4 storage step, when the pipeline makes every block matrix 2:4 sparse and leaves it f32 or f16
    /// (quantized formats keep their own dense layout).
    /// </summary>
    private static IReadOnlyList<IModelPass> Storage(IReadOnlyList<IModelPass> pruning, IReadOnlyList<IModelPass> quantization)
    {
        if (pruning is not [PruningPass { MakesEveryLayerMatrix24: true, CompressedSparseStorage: true }]) return [];
        var type = quantization.LastOrDefault(p => p.MatrixType is not null)?.MatrixType ?? Tensors.TensorType.F32;
        return type is Tensors.TensorType.F32 or Tensors.TensorType.F16 ? [new Sparse24StoragePass(type)] : [];
    }

    private static IReadOnlyList<IModelPass> CreatePruning(string? prune, PassOptions options)
    {
        var name = prune?.Trim();
        if (string.IsNullOrEmpty(name) || string.Equals(name, None, StringComparison.OrdinalIgnoreCase))
        {
            if (options.Names.FirstOrDefault() is { } stray)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                    $"{stray} is set but no pruning is: set Prune to one of {string.Join(", ", PruningNames.Skip(1))}, or remove {stray}.");
            return [];
        }
        var descriptor = Pruning.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ModelSdkException(DiagnosticCodes.UnknownCompressionPass,
                $"Prune=\"{name}\" is not a pruning method ModelSdk knows. Valid values: {string.Join(", ", PruningNames)}.");
        var pass = descriptor.Create(options);
        if (options.Unread.FirstOrDefault() is { } unused)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{unused} does not apply to {descriptor.Name}, whose options are {string.Join(", ", descriptor.OptionNames)}.");
        return [pass];
    }
}
