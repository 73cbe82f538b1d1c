using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>
/// Runs an analyzer over user code that uses a real generated model class (TinyStories.Stories15M from the
/// generator, compiled against the runtime stub) and checks its diagnostics against [|...|] markup.
/// </summary>
internal static class AnalyzerHarness
{
    public static async Task VerifyAsync(DiagnosticAnalyzer analyzer, string id, string markup)
    {
        (string source, IReadOnlyList<Microsoft.CodeAnalysis.Text.TextSpan> expected) = Markup.Parse(markup);
        (_, Compilation compilation) = GeneratorHarness.Run(
            [new InMemoryAdditionalText(Manifests.Stories15MPath, Manifests.Stories15M())], source);

        // The test source must itself be valid C#, or the analyzer is not being tested on real code.
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers([analyzer])
            .GetAnalyzerDiagnosticsAsync();

        SyntaxTree userTree = compilation.SyntaxTrees.Single(t => t.ToString() == source);
        var actual = diagnostics.Where(d => d.Id == id).ToList();
        Assert.All(actual, d => Assert.Equal(userTree, d.Location.SourceTree));
        Assert.Equal(
            expected.Select(span => source.Substring(span.Start, span.Length)),
            actual.OrderBy(d => d.Location.SourceSpan.Start).Select(d => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)));
        Assert.Equal(expected, actual.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.Location.SourceSpan));
    }
}
