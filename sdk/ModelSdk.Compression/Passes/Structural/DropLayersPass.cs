using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Structural;

/// <summary>
/// <c>drop-layers</c>: depth pruning. Removes whole transformer blocks and renumbers the rest, so the model has fewer
/// blocks (the manifest, the generated class's <c>Layers</c> and the runtime follow the config). <c>DropLayers="N"</c>
/// drops the N blocks whose output is most similar to their input on the calibration text (mean cosine similarity over
/// tokens, <see cref="LayerImportance"/>; Men et al., 2024, "ShortGPT", and Gromov et al., 2024, measure redundancy so):
/// a block that barely changes the residual stream is the cheapest to lose. <c>DropLayers="layers.3,layers.4"</c> drops
/// those blocks, no calibration needed. Runs before every other pass (the registry puts it first), and is usually
/// followed by <c>distill</c>, whose student may have fewer blocks than the teacher.
/// </summary>
public sealed class DropLayersPass : IModelPass
{
    public const string DropLayersOption = "DropLayers";

    public static PassDescriptor Descriptor { get; } = new("drop-layers",
        "remove the N most redundant transformer blocks (cosine similarity of input and output on calibration data) or the listed ones (layers.3,layers.4)",
        [DropLayersOption], Create);

    private DropLayersPass(int count, IReadOnlyList<int> layers)
    {
        Count = count;
        Layers = layers;
    }

    /// <summary>How many blocks to drop by similarity (0 when <see cref="Layers"/> names them).</summary>
    public int Count { get; }

    /// <summary>The blocks to drop, ascending (empty when chosen by similarity).</summary>
    public IReadOnlyList<int> Layers { get; }

    /// <summary>Drops the <paramref name="count"/> most redundant blocks, measured on the calibration text.</summary>
    public static DropLayersPass MostRedundant(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return new DropLayersPass(count, []);
    }

    /// <summary>Drops exactly <paramref name="layers"/>.</summary>
    public static DropLayersPass Listed(IEnumerable<int> layers)
    {
        var list = layers.ToList();
        var distinct = list.Distinct().Order().ToArray();
        if (distinct.Length == 0) throw new ArgumentException("Name at least one block.", nameof(layers));
        if (distinct.Length != list.Count)
            throw new ModelSdkException(DiagnosticCodes.InvalidDropLayers, $"{DropLayersOption} lists a block twice ({string.Join(",", list.Select(BlockName))}).");
        return new DropLayersPass(0, distinct);
    }

    public string Name => Descriptor.Name;

    public int Version => 1;

    public IReadOnlyList<KeyValuePair<string, string>> Options => [new(DropLayersOption, ValueText)];

    /// <summary>The canonical option value: the count, or the blocks as "layers.3,layers.4".</summary>
    public string ValueText => Count > 0 ? Count.ToString(CultureInfo.InvariantCulture) : string.Join(",", Layers.Select(BlockName));

    public bool NeedsCalibration => Count > 0;

    public TensorType? MatrixType => null;

    /// <summary>Reads DropLayers: a positive count, or a list of "layers.N" (or plain "N" when more than one) entries.</summary>
    private static IModelPass Create(PassOptions options)
    {
        var text = options.GetString(DropLayersOption) ?? throw PassOptions.Invalid(DropLayersOption, "", "a block count or a list such as layers.3,layers.4");
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return count > 0 ? MostRedundant(count) : throw PassOptions.Invalid(DropLayersOption, text, "a block count of at least 1, or a list such as layers.3,layers.4");
        var entries = text.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var layers = new List<int>();
        foreach (var entry in entries)
        {
            var digits = entry.StartsWith("layers.", StringComparison.OrdinalIgnoreCase) ? entry["layers.".Length..] : entry;
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var layer))
                throw PassOptions.Invalid(DropLayersOption, text, "a block count such as 1, or blocks by index such as layers.3,layers.4");
            layers.Add(layer);
        }
        return entries.Length == 0 ? throw PassOptions.Invalid(DropLayersOption, text, "a block count or a list such as layers.3,layers.4") : Listed(layers);
    }

    public void Validate(LlamaConfig config)
    {
        if (Count >= config.Layers)
            throw new ModelSdkException(DiagnosticCodes.InvalidDropLayers,
                $"{DropLayersOption}=\"{Count}\" would drop every block of this model, which has {config.Layers}: drop at most {config.Layers - 1}.");
        if (Layers.FirstOrDefault(l => l >= config.Layers, -1) is var missing and >= 0)
            throw new ModelSdkException(DiagnosticCodes.InvalidDropLayers,
                $"{DropLayersOption} names '{BlockName(missing)}', which is no block of this model ({config.Layers} blocks, layers.0 to layers.{config.Layers - 1}).");
        if (Layers.Count >= config.Layers)
            throw new ModelSdkException(DiagnosticCodes.InvalidDropLayers,
                $"{DropLayersOption}=\"{ValueText}\" would drop every block of this model, which has {config.Layers}: keep at least one.");
    }

    public LlamaConfig OutputConfig(LlamaConfig input) => input with { Layers = input.Layers - (Count > 0 ? Count : Layers.Count) };

    public void Run(WorkingModel model, PassContext context)
    {
        Validate(model.Config);
        var dropped = Layers;
        if (Count > 0)
        {
            var similarity = LayerImportance.InputOutputCosine(model, context.Calibration, context.CancellationToken,
                fraction => context.ReportProgress(Name, fraction));
            context.Log($"{Name}: cosine similarity of each block's input and output: " +
                string.Join(", ", similarity.Select((s, l) => $"{BlockName(l)} {s.ToString("0.0000", CultureInfo.InvariantCulture)}")));
            context.RecordResult(this, "similarity", string.Join(",", similarity.Select(s => s.ToString("0.000000", CultureInfo.InvariantCulture))));
            // Most similar first; ties go to the later block (the order is total, so the choice is deterministic).
            dropped = Enumerable.Range(0, similarity.Length).OrderByDescending(l => similarity[l]).ThenByDescending(l => l).Take(Count).Order().ToArray();
        }
        context.Log($"{Name}: dropping {string.Join(", ", dropped.Select(BlockName))} of {model.Config.Layers} blocks");
        context.RecordResult(this, "dropped", string.Join(",", dropped.Select(BlockName)));
        model.KeepLayers(Enumerable.Range(0, model.Config.Layers).Except(dropped).ToArray());
        context.ReportProgress(Name, 1);
    }

    private static string BlockName(int layer) => $"layers.{layer}";
}
