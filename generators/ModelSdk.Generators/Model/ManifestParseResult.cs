namespace ModelSdk.Generators.Model
{
    /// <summary>What one manifest became: a spec to emit, or the diagnostic that explains why not (never both).</summary>
    internal sealed record ManifestParseResult(string FilePath, ModelSpec? Spec, DiagnosticInfo? Diagnostic)
    {
        public static ManifestParseResult Success(string filePath, ModelSpec spec) => new ManifestParseResult(filePath, spec, null);

        public static ManifestParseResult Failure(string filePath, DiagnosticInfo diagnostic) => new ManifestParseResult(filePath, null, diagnostic);
    }
}
