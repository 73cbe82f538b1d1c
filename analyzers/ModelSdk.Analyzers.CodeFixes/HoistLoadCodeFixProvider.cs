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
using Microsoft.CodeAnalysis.Formatting;

namespace ModelSdk.Analyzers.CodeFixes
{
    /// <summary>
    /// MSDK2101: moves <c>[using] var model = Stories15M.Load(...);</c> from the top level of a loop's body to just
    /// before the loop. Offered only when that is the same program: the arguments read nothing declared inside the
    /// loop (its variable included), and the name is free in the enclosing scope.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(HoistLoadCodeFixProvider)), Shared]
    public sealed class HoistLoadCodeFixProvider : CodeFixProvider
    {
        private const string Title = "Load the model once, before the loop";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("MSDK2101");

        /// <inheritdoc/>
        public override FixAllProvider? GetFixAllProvider() => null;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not { } node) return;
            LocalDeclarationStatementSyntax? declaration = LoadDeclarations.Of(node);
            if (declaration?.Parent is not BlockSyntax body || body.Parent is not StatementSyntax loop || !IsLoop(loop, body)) return;
            if (loop.Parent is not (BlockSyntax or GlobalStatementSyntax)) return;

            SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (model is null) return;
            ExpressionSyntax initializer = declaration.Declaration.Variables[0].Initializer!.Value;
            DataFlowAnalysis? flow = model.AnalyzeDataFlow(initializer);
            if (flow is null || !flow.Succeeded) return;
            if (flow.ReadInside.Any(symbol => symbol.DeclaringSyntaxReferences.Any(r => r.SyntaxTree == loop.SyntaxTree && loop.Span.Contains(r.Span)))) return;
            string name = declaration.Declaration.Variables[0].Identifier.ValueText;
            if (!model.LookupSymbols(loop.SpanStart, name: name).IsEmpty || DeclaresElsewhere(loop.Parent, name, declaration)) return;

            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => HoistAsync(context.Document, declaration, loop, ct), equivalenceKey: Title),
                context.Diagnostics);
        }

        /// <summary>Another declaration of <paramref name="name"/> in the scope the statement moves to would clash with it (CS0128/CS0136).</summary>
        private static bool DeclaresElsewhere(SyntaxNode scope, string name, LocalDeclarationStatementSyntax moved)
            => scope.DescendantNodes().Any(node => !moved.Span.Contains(node.Span) && node switch
            {
                VariableDeclaratorSyntax v => v.Identifier.ValueText == name,
                SingleVariableDesignationSyntax d => d.Identifier.ValueText == name,
                ForEachStatementSyntax f => f.Identifier.ValueText == name,
                ParameterSyntax p => p.Identifier.ValueText == name,
                LocalFunctionStatementSyntax l => l.Identifier.ValueText == name,
                CatchDeclarationSyntax c => c.Identifier.ValueText == name,
                _ => false,
            });

        private static bool IsLoop(StatementSyntax loop, BlockSyntax body) => loop switch
        {
            ForStatementSyntax f => f.Statement == body,
            ForEachStatementSyntax f => f.Statement == body,
            WhileStatementSyntax w => w.Statement == body,
            DoStatementSyntax d => d.Statement == body,
            _ => false,
        };

        private static async Task<Document> HoistAsync(Document document, LocalDeclarationStatementSyntax declaration, StatementSyntax loop, CancellationToken ct)
        {
            SyntaxNode root = (await document.GetSyntaxRootAsync(ct).ConfigureAwait(false))!;
            StatementSyntax hoisted = declaration.WithLeadingTrivia(loop.GetLeadingTrivia()).WithAdditionalAnnotations(Formatter.Annotation);
            SyntaxNode anchor = loop.Parent is GlobalStatementSyntax global ? global : loop;
            SyntaxNode inserted = anchor is GlobalStatementSyntax
                ? SyntaxFactory.GlobalStatement(hoisted)
                : hoisted;

            root = root.TrackNodes(declaration, anchor);
            root = root.RemoveNode(root.GetCurrentNode(declaration)!, SyntaxRemoveOptions.KeepNoTrivia)!;
            root = root.InsertNodesBefore(root.GetCurrentNode(anchor)!, [inserted]);
            return document.WithSyntaxRoot(root);
        }
    }
}
