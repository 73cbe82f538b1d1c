using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>In-memory C# compilations against the running .NET's framework assemblies.</summary>
internal static class TestCompilation
{
    // Diagnose: missing XML docs on generated public members show up as CS1591.
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<MetadataReference[]> FrameworkReferences = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll"))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    /// <summary>A library compilation of <paramref name="sources"/> (the runtime stub is added when asked).</summary>
    public static CSharpCompilation Create(bool withRuntimeStub, params string[] sources)
    {
        IEnumerable<string> all = withRuntimeStub ? sources.Prepend(RuntimeContractStub.Source) : sources;
        return CSharpCompilation.Create(
            "TestApp",
            all.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Source{i}.cs")),
            FrameworkReferences.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>Errors and warnings, formatted for assertion messages.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));
}
