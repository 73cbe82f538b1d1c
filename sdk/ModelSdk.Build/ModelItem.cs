using Microsoft.Build.Framework;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>A validated <c>Model</c> item: its resolved input paths, generated names and output paths.</summary>
internal sealed record ModelItem(
    string ItemSpec, string CheckpointPath, string TokenizerPath, string ClassName, string? Namespace,
    string ArtifactPath, string ManifestPath, string KeyPath)
{
    /// <summary>Metadata a user may set on a Model item. MSBuild's well-known metadata are not custom and never reach this check.</summary>
    public static readonly string[] KnownMetadata = ["Tokenizer", "ClassName", "Namespace", "Link", "Visible"];

    /// <summary>Metadata the SDK's own targets add; users never see them.</summary>
    private const string InternalPrefix = "_ModelSdk";

    public static ModelItem From(ITaskItem item, string projectDirectory, string? defaultNamespace)
    {
        foreach (var name in item.CloneCustomMetadata().Keys.Cast<string>())
        {
            if (name.StartsWith(InternalPrefix, StringComparison.Ordinal) || KnownMetadata.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            throw new ModelSdkException(DiagnosticCodes.UnknownMetadata,
                $"The Model item '{item.ItemSpec}' has metadata '{name}', which ModelSdk does not know. Valid metadata: {string.Join(", ", KnownMetadata)}.");
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

        var artifact = RequiredInternal(item, "_ModelSdkArtifactPath");
        return new ModelItem(item.ItemSpec, checkpoint, tokenizer, className, string.IsNullOrEmpty(ns) ? null : ns,
            artifact, RequiredInternal(item, "_ModelSdkManifestPath"), artifact + ".key");
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
