using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// Which matrices a pruning pass prunes. By default every attention and feed-forward matrix of every block, and not the
/// token embedding / classifier — what Wanda and SparseGPT do (their tables prune the linear layers of the blocks only).
/// <c>PruneLayers</c> narrows the choice to a list of entries, each a matrix kind in every block (<c>wq</c>, <c>wk</c>,
/// <c>wv</c>, <c>wo</c>, <c>w1</c>, <c>w2</c>, <c>w3</c>), a whole block (<c>layers.3</c>) or one tensor
/// (<c>layers.3.feed_forward.w2</c>), optionally with its own sparsity after an <c>=</c> (<c>"w1=0.6,w2=0.4,wq"</c>: a
/// later entry overrides an earlier one for the matrices both select; entries without one use <c>Sparsity</c>);
/// <c>PruneClassifier="true"</c> adds the embedding / classifier.
/// </summary>
public sealed record PruningTargets(IReadOnlyList<string> Layers, bool IncludeClassifier)
{
    public const string SparsityOption = "Sparsity";

    public const string PruneLayersOption = "PruneLayers";

    public const string PruneClassifierOption = "PruneClassifier";

    /// <summary>"compressed" (default) or "dense": how 2:4 sparse matrices are stored (see <see cref="Sparse24StoragePass"/>).</summary>
    public const string SparseStorageOption = "SparseStorage";

    /// <summary>The option names every pruning pass reads.</summary>
    public static IReadOnlyList<string> OptionNames { get; } = [SparsityOption, PruneLayersOption, PruneClassifierOption, SparseStorageOption];

    /// <summary>The literature's choice: every block matrix, the embedding / classifier dense.</summary>
    public static PruningTargets Default { get; } = new([], false);

    /// <summary>The canonical PruneLayers value ("" = every block matrix).</summary>
    public string LayersText => string.Join(",", Layers);

    /// <summary>Reads PruneLayers (entries canonical: lower case, sparsities as <see cref="SparsityPattern.ToString"/>; MSDK1020 for a bad one) and PruneClassifier.</summary>
    public static PruningTargets Parse(PassOptions options)
    {
        var layers = (options.GetString(PruneLayersOption) ?? "")
            .Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Canonical)
            .Distinct()
            .ToArray();
        return new PruningTargets(layers, options.GetBool(PruneClassifierOption, false));
    }

    /// <summary>The sparsity of <paramref name="name"/>: that of the last PruneLayers entry selecting it with one, else <paramref name="pattern"/>.</summary>
    public SparsityPattern PatternFor(string name, SparsityPattern pattern)
    {
        foreach (var entry in Layers)
        {
            var (selector, own) = Split(entry);
            if (own is not null && Matches(selector, name)) pattern = own;
        }
        return pattern;
    }

    private static string Canonical(string entry)
    {
        var (selector, pattern) = Split(entry.ToLowerInvariant());
        return pattern is null ? selector : $"{selector}={pattern}";
    }

    private static (string Selector, SparsityPattern? Pattern) Split(string entry)
    {
        var equals = entry.IndexOf('=');
        return equals < 0 ? (entry, null) : (entry[..equals].Trim(), SparsityPattern.Parse(entry[(equals + 1)..]));
    }

    /// <summary>The block matrices selected in <paramref name="config"/>'s model, layer by layer; MSDK1022 for an entry that matches none.</summary>
    public IReadOnlyList<string> SelectLayerMatrices(LlamaConfig config)
    {
        var all = Enumerable.Range(0, config.Layers).SelectMany(l => LlamaLinears.All.Select(k => LlamaLinears.TensorName(k, l))).ToArray();
        if (Layers.Count == 0) return all;
        var selectors = Layers.Select(entry => Split(entry).Selector).ToArray();
        var unknown = selectors.FirstOrDefault(entry => !all.Any(name => Matches(entry, name)));
        if (unknown is not null)
            throw new ModelSdkException(DiagnosticCodes.UnknownPruneLayer,
                $"{PruneLayersOption} names '{unknown}', which is no matrix of this model ({config.Layers} blocks, layers.0 to layers.{config.Layers - 1}). " +
                "Use wq, wk, wv, wo, w1, w2, w3 (that matrix in every block), layers.N (every matrix of block N) or a tensor name such as layers.0.attention.wq.");
        return all.Where(name => selectors.Any(entry => Matches(entry, name))).ToArray();
    }

    /// <summary>
    /// Every matrix to prune with its row length: the selected block matrices, then (when included) the vocabulary
    /// matrices (one when the classifier is shared with the embedding).
    /// </summary>
    public IReadOnlyList<(string Name, int Cols)> Select(LlamaConfig config)
    {
        var selected = SelectLayerMatrices(config).Select(name => (name, RowLength(name, config))).ToList();
        if (IncludeClassifier)
        {
            selected.Add((TensorNames.TokenEmbedding, config.Dim));
            if (!config.SharedClassifier) selected.Add((TensorNames.Classifier, config.Dim));
        }
        return selected;
    }

    /// <summary>MSDK1021 when an N:M group length does not divide the row length of a selected matrix; MSDK1022 for an unknown entry.</summary>
    public void Validate(LlamaConfig config, SparsityPattern pattern, string passName)
    {
        foreach (var (name, cols) in Select(config))
        {
            var own = PatternFor(name, pattern);
            if (own.IsSemiStructured && cols % own.GroupSize != 0)
                throw new ModelSdkException(DiagnosticCodes.SparsityGroupDoesNotDivide,
                    $"{passName} (Sparsity={own}) prunes every row in groups of {own.GroupSize}, but the rows of {name} have {cols} values, " +
                    $"not a multiple of {own.GroupSize}.");
        }
    }

    /// <summary>Whether a PruneLayers-style selector (a kind such as w1, a block such as layers.3, or a tensor name) selects <paramref name="name"/>.</summary>
    internal static bool Matches(string entry, string name)
        => name == entry || name.StartsWith(entry + ".", StringComparison.Ordinal) || name.EndsWith("." + entry, StringComparison.Ordinal);

    private static int RowLength(string name, LlamaConfig config) => name.EndsWith(".w2", StringComparison.Ordinal) ? config.HiddenDim : config.Dim;
}
