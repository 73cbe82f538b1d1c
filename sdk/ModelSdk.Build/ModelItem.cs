using Microsoft.Build.Framework;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>A validated <c>Model</c> item: its resolved input paths, generated names and output paths.</summary>
internal sealed record ModelItem(
    string ItemSpec, string CheckpointPath, string TokenizerPath, string ClassName, string? Namespace,
    string ArtifactPath, string ManifestPath, string KeyPath)
{
    /// <summary>Compression passes (from <c>Prune</c>, <c>Quantize</c> and the pass options), in order: pruning first.</summary>
    public IReadOnlyList<IModelPass> Passes { get; init; } = [];

    public string? CalibrationPath { get; init; }

    public string? EvaluationPath { get; init; }

    public QualityGates Gates { get; init; } = QualityGates.None;

    /// <summary>The distill pass's options when the item sets <c>Distill="true"</c> (see <see cref="DistillMetadata"/>), else null.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? DistillOptions { get; init; }

    /// <summary>Metadata a user may set on a Model item besides the pass options. MSBuild's well-known metadata are not custom and never reach this check.</summary>
    private static readonly string[] OwnMetadata =
    [
        "Tokenizer", "ClassName", "Namespace", "Link", "Visible", "Prune", "Quantize", "CalibrationData", "EvaluationData",
        QualityGates.MaxPerplexityIncreaseOption, QualityGates.MaxKlDivergenceOption, DistillMetadata.Switch,
    ];

    /// <summary>Every metadata name a Model item accepts: its own and every registered pass's options (GroupSize, Symmetric, ...).</summary>
    public static string[] KnownMetadata => [.. OwnMetadata, .. PassRegistry.OptionNames];

    /// <summary>Metadata the SDK's own targets add; users never see them.</summary>
    private const string InternalPrefix = "_ModelSdk";

    public static ModelItem From(ITaskItem item, string projectDirectory, string? defaultNamespace)
    {
        var known = KnownMetadata;
        foreach (var name in item.CloneCustomMetadata().Keys.Cast<string>())
        {
            // Distill<Option> names are checked against the distill pass's options when it is created (MSDK1012).
            if (name.StartsWith(InternalPrefix, StringComparison.Ordinal) || known.Contains(name, StringComparer.OrdinalIgnoreCase)
                || DistillMetadata.IsDistillMetadata(name)) continue;
            throw new ModelSdkException(DiagnosticCodes.UnknownMetadata,
                $"The Model item '{item.ItemSpec}' has metadata '{name}', which ModelSdk does not know. Valid metadata: {string.Join(", ", known)}, {DistillMetadata.Switch}<Option>.");
        }

        var checkpoint = Resolve(projectDirectory, item.ItemSpec);
        if (!File.Exists(checkpoint))
            throw new ModelSdkException(DiagnosticCodes.ModelFileNotFound, $"The Model item '{item.ItemSpec}' names a file that does not exist.", checkpoint);

        var tokenizerSpec = item.GetMetadata("Tokenizer");
        if (string.IsNullOrWhiteSpace(tokenizerSpec))
            throw new ModelSdkException(DiagnosticCodes.TokenizerMissing, $"The Model item '{item.ItemSpec}' has no Tokenizer metadata.");
        var tokenizer = Resolve(projectDirectory, tokenizerSpec);
        if (!File.Exists(tokenizer))
            throw new ModelSdkException(DiagnosticCodes.TokenizerMissing, $"The tokenizer '{tokenizerSpec}' of Model item '{item.ItemSpec}' does not exist.", tokenizer);

        var className = item.GetMetadata("ClassName");
        if (string.IsNullOrWhiteSpace(className)) className = CSharpNames.ToTypeName(Path.GetFileNameWithoutExtension(checkpoint));
        if (!CSharpNames.IsIdentifier(className))
            throw new ModelSdkException(DiagnosticCodes.InvalidClassName, $"ClassName '{className}' of Model item '{item.ItemSpec}' is not a valid C# identifier.");

        var ns = item.GetMetadata("Namespace");
        if (string.IsNullOrWhiteSpace(ns)) ns = defaultNamespace;
        if (!string.IsNullOrEmpty(ns) && !CSharpNames.IsNamespace(ns))
            throw new ModelSdkException(DiagnosticCodes.InvalidClassName, $"Namespace '{ns}' of Model item '{item.ItemSpec}' is not a valid C# namespace.");

        var passOptions = new PassOptions(PassRegistry.OptionNames.Select(n => new KeyValuePair<string, string>(n, item.GetMetadata(n))));
        var passes = PassRegistry.CreatePipeline(item.GetMetadata("Prune"), item.GetMetadata("Quantize"), passOptions);
        var gates = QualityGates.Parse(item.GetMetadata(QualityGates.MaxPerplexityIncreaseOption), item.GetMetadata(QualityGates.MaxKlDivergenceOption));
        var evaluation = OptionalFile(projectDirectory, item, "EvaluationData");
        if (gates.Any && evaluation is null)
            throw new ModelSdkException(DiagnosticCodes.EvaluationDataInvalid,
                $"{(gates.MaxPerplexityIncrease is not null ? QualityGates.MaxPerplexityIncreaseOption : QualityGates.MaxKlDivergenceOption)} needs EvaluationData: the gate is measured on an evaluation text.");

        var artifact = RequiredInternal(item, "_ModelSdkArtifactPath");
        return new ModelItem(item.ItemSpec, checkpoint, tokenizer, className, string.IsNullOrEmpty(ns) ? null : ns,
            artifact, RequiredInternal(item, "_ModelSdkManifestPath"), artifact + ".key")
        {
            Passes = passes,
            CalibrationPath = OptionalFile(projectDirectory, item, "CalibrationData"),
            EvaluationPath = evaluation,
            Gates = gates,
            DistillOptions = DistillMetadata.Read(item),
        };
    }

    /// <summary>A file metadata resolved against the project folder; existence is checked by the compiler (MSDK1014/1015).</summary>
    private static string? OptionalFile(string projectDirectory, ITaskItem item, string name)
    {
        var value = item.GetMetadata(name);
        return string.IsNullOrWhiteSpace(value) ? null : Resolve(projectDirectory, value.Trim());
    }

    private static string Resolve(string projectDirectory, string path) => Path.GetFullPath(Path.Combine(projectDirectory, path));

    private static string RequiredInternal(ITaskItem item, string name)
    {
        var value = item.GetMetadata(name);
        return string.IsNullOrEmpty(value)
            ? throw new InvalidOperationException($"The SDK targets did not set {name} on Model item '{item.ItemSpec}'.")
            : Path.GetFullPath(value);
    }
}
