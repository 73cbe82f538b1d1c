using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>
/// Applies a code fix the way an IDE does: the user code, the runtime stub and the generated model class in a workspace
/// project, the analyzer's diagnostic at the [|...|] span, the fix's first action; then compares the new text and checks
/// that it compiles without the diagnostic. With no expected text, checks that no fix is offered. An application's
/// <paramref name="outputKind"/> lets the user code be top-level statements.
/// </summary>
internal static class CodeFixHarness
{
    public static async Task VerifyAsync(DiagnosticAnalyzer analyzer, CodeFixProvider fix, string markup, string? expected, OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary)
    {
        var (source, spans) = Markup.Parse(markup);
        var span = Assert.Single(spans);
        var (_, compilation) = GeneratorHarness.Run([new InMemoryAdditionalText(Manifests.Stories15MPath, Manifests.Stories15M())], source);

        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Default, "TestApp", "TestApp", LanguageNames.CSharp,
            compilationOptions: compilation.Options.WithOutputKind(outputKind), parseOptions: TestCompilation.ParseOptions, metadataReferences: compilation.References));
        DocumentId? userDocument = null;
        foreach (var tree in compilation.SyntaxTrees)
        {
            var document = workspace.AddDocument(project.Id, Path.GetFileName(tree.FilePath is { Length: > 0 } path ? path : $"{Guid.NewGuid():N}.cs"), SourceText.From(tree.ToString()));
            if (tree.ToString() == source) userDocument = document.Id;
        }
        var user = workspace.CurrentSolution.GetDocument(userDocument ?? throw new InvalidOperationException("user source not found"))!;

        var diagnostic = Assert.Single(await DiagnosticsAsync(user, analyzer), d => d.Location.SourceSpan == span);
        var actions = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(user, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        if (expected is null)
        {
            Assert.Empty(actions);
            return;
        }
        var operations = await Assert.Single(actions).GetOperationsAsync(CancellationToken.None);
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution.GetDocument(user.Id)!;
        var changedText = (await changed.GetTextAsync()).ToString();
        Assert.Equal(expected.ReplaceLineEndings(), changedText.ReplaceLineEndings());

        var fixedCompilation = (await changed.Project.GetCompilationAsync())!;
        Assert.Empty(fixedCompilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.DoesNotContain(await DiagnosticsAsync(changed, analyzer), d => d.Location.SourceTree?.ToString() == changedText);
    }

    private static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(Document document, DiagnosticAnalyzer analyzer)
    {
        var compilation = (await document.Project.GetCompilationAsync())!;
        return await compilation.WithAnalyzers([analyzer]).GetAnalyzerDiagnosticsAsync();
    }
}
