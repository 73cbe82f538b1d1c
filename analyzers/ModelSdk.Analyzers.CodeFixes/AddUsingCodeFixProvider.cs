using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelSdk.Analyzers.CodeFixes
{
    /// <summary>MSDK2103: <c>var model = Stories15M.Load();</c> becomes <c>using var model = Stories15M.Load();</c>.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddUsingCodeFixProvider)), Shared]
    public sealed class AddUsingCodeFixProvider : CodeFixProvider
    {
        private const string Title = "Declare the model with 'using'";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("MSDK2103");

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not { } node) return;
            LocalDeclarationStatementSyntax? declaration = LoadDeclarations.Of(node);
            if (declaration is null || declaration.UsingKeyword != default) return;
            if (declaration.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp8 }) return;
            if (declaration.Parent is not (BlockSyntax or GlobalStatementSyntax or SwitchSectionSyntax)) return;

            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => AddUsingAsync(context.Document, declaration, ct), equivalenceKey: Title),
                context.Diagnostics);
        }

        private static async Task<Document> AddUsingAsync(Document document, LocalDeclarationStatementSyntax declaration, CancellationToken ct)
        {
            SyntaxNode root = (await document.GetSyntaxRootAsync(ct).ConfigureAwait(false))!;
            SyntaxToken first = declaration.GetFirstToken();
            LocalDeclarationStatementSyntax withUsing = declaration
                .ReplaceToken(first, first.WithLeadingTrivia(SyntaxFactory.Space))
                .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithLeadingTrivia(first.LeadingTrivia));
            return document.WithSyntaxRoot(root.ReplaceNode(declaration, withUsing));
        }
    }
}
