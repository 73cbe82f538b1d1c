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
using Microsoft.CodeAnalysis.Rename;
using Microsoft.CodeAnalysis.Simplification;

namespace ModelSdk.Analyzers.CodeFixes
{
    /// <summary>
    /// MSDK2104: a blocking wait becomes an await. <c>x.Result</c>, <c>x.Wait()</c> and <c>x.GetAwaiter().GetResult()</c>
    /// become <c>await x</c>; <c>foreach (… in x.ToBlockingEnumerable())</c> becomes <c>await foreach (… in x)</c>.
    /// In an async function or in top-level statements that is the whole fix. In a synchronous method or local function
    /// it also makes the function async, as Roslyn's "Make method async" does: <c>void</c> returns <c>Task</c>,
    /// <c>T</c> returns <c>Task&lt;T&gt;</c>, and the name gets the <c>Async</c> suffix (with every reference).
    /// Not offered where an await cannot go (a lock, a query, a catch filter, a synchronous lambda) or where changing
    /// the signature would break other code (overrides, virtual members, interface implementations, ref parameters).
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseAwaitCodeFixProvider)), Shared]
    public sealed class UseAwaitCodeFixProvider : CodeFixProvider
    {
        private const string UseAwaitTitle = "Use 'await'";
        private const string MakeAsyncTitle = "Use 'await' and make the method async";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("MSDK2104");

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not { } reported) return;
            if (Rewrite(reported) is not var (waiting, awaiting)) return;
            SyntaxNode? function = EnclosingFunction(waiting, out bool awaitForbidden);
            if (function is null || awaitForbidden) return;

            if (IsAsync(function))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(UseAwaitTitle, ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(waiting, awaiting))), equivalenceKey: UseAwaitTitle),
                    context.Diagnostics);
                return;
            }

            SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (model?.GetDeclaredSymbol(function, context.CancellationToken) is not IMethodSymbol method || !CanBecomeAsync(function, method, model.Compilation)) return;
            context.RegisterCodeFix(
                CodeAction.Create(MakeAsyncTitle, ct => MakeAsync(context.Document, function, method, waiting, awaiting, model.Compilation, ct), equivalenceKey: MakeAsyncTitle),
                context.Diagnostics);
        }

        /// <summary>The blocking expression (or foreach statement) and what replaces it; null for a form without a plain await equivalent.</summary>
        private static (SyntaxNode Waiting, SyntaxNode Awaiting)? Rewrite(SyntaxNode reported)
        {
            switch (reported)
            {
                // x.Result
                case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Result" } result:
                    return (result, Await(result.Expression, result));
                // x.Wait(), x.GetAwaiter().GetResult(), foreach (… in x.ToBlockingEnumerable())
                case InvocationExpressionSyntax { ArgumentList.Arguments.Count: 0, Expression: MemberAccessExpressionSyntax call } invocation:
                    switch (call.Name.Identifier.ValueText)
                    {
                        case "Wait":
                            return (invocation, Await(call.Expression, invocation));
                        case "GetResult" when call.Expression is InvocationExpressionSyntax
                        {
                            ArgumentList.Arguments.Count: 0,
                            Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "GetAwaiter" } getAwaiter,
                        }:
                            return (invocation, Await(getAwaiter.Expression, invocation));
                        case "ToBlockingEnumerable" when invocation.Parent is CommonForEachStatementSyntax loop && loop.Expression == invocation && loop.AwaitKeyword == default:
                            return (loop, loop
                                .WithAwaitKeyword(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithLeadingTrivia(loop.ForEachKeyword.LeadingTrivia).WithTrailingTrivia(SyntaxFactory.Space))
                                .WithForEachKeyword(loop.ForEachKeyword.WithLeadingTrivia())
                                .WithExpression(call.Expression.WithTriviaFrom(invocation)));
                    }
                    return null;
                default:
                    return null;
            }
        }

        /// <summary><c>(await task)</c>; the simplifier drops the parentheses where they are not needed.</summary>
        private static ExpressionSyntax Await(ExpressionSyntax task, SyntaxNode replaced)
            => SyntaxFactory.ParenthesizedExpression(SyntaxFactory.AwaitExpression(task.WithoutTrivia()))
                .WithTriviaFrom(replaced)
                .WithAdditionalAnnotations(Simplifier.Annotation);

        /// <summary>The function the await would be in (a method, local function, lambda, or the top-level statements' compilation unit).</summary>
        private static SyntaxNode? EnclosingFunction(SyntaxNode node, out bool awaitForbidden)
        {
            awaitForbidden = false;
            for (SyntaxNode? current = node.Parent; current is not null; current = current.Parent)
            {
                switch (current)
                {
                    case LockStatementSyntax lockStatement when lockStatement.Statement.Span.Contains(node.Span):
                    case QueryExpressionSyntax:
                    case CatchFilterClauseSyntax:
                        awaitForbidden = true;
                        break;
                    case AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax
                        or PropertyDeclarationSyntax or IndexerDeclarationSyntax or FieldDeclarationSyntax or EventFieldDeclarationSyntax:
                        return current;
                    case GlobalStatementSyntax global:
                        return global.Parent;
                }
            }
            return null;
        }

        private static bool IsAsync(SyntaxNode function) => function switch
        {
            CompilationUnitSyntax => true, // top-level statements may always await
            AnonymousFunctionExpressionSyntax lambda => lambda.AsyncKeyword != default,
            LocalFunctionStatementSyntax local => local.Modifiers.Any(SyntaxKind.AsyncKeyword),
            MethodDeclarationSyntax method => method.Modifiers.Any(SyntaxKind.AsyncKeyword),
            _ => false,
        };

        /// <summary>A synchronous method or local function whose signature can change to async without breaking code that must match it.</summary>
        private static bool CanBecomeAsync(SyntaxNode function, IMethodSymbol method, Compilation compilation)
        {
            if (function is not (MethodDeclarationSyntax { Body: not null } or MethodDeclarationSyntax { ExpressionBody: not null }
                or LocalFunctionStatementSyntax { Body: not null } or LocalFunctionStatementSyntax { ExpressionBody: not null }))
                return false;
            if (method.IsOverride || method.IsVirtual || method.IsAbstract || method.IsExtern || method.PartialDefinitionPart is not null
                || method.PartialImplementationPart is not null || method.ReturnsByRef || method.ReturnsByRefReadonly)
                return false;
            if (method.Parameters.Any(p => p.RefKind != RefKind.None || p.Type.IsRefLikeType)) return false;
            if (!method.ExplicitInterfaceImplementations.IsEmpty || ImplementsInterface(method)) return false;
            if (function.DescendantNodes().Any(n => n is YieldStatementSyntax && EnclosingFunction(n, out _) == function)) return false;
            return method.ReturnsVoid || !IsTaskLike(method.ReturnType, compilation);
        }

        private static bool ImplementsInterface(IMethodSymbol method)
            => method.ContainingType is { } type && type.AllInterfaces.SelectMany(i => i.GetMembers())
                .Any(member => SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(member), method));

        private static bool IsTaskLike(ITypeSymbol type, Compilation compilation)
            => type.GetMembers("GetAwaiter").Any(m => m is IMethodSymbol { Parameters.IsEmpty: true })
                || type.OriginalDefinition.Equals(compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1"), SymbolEqualityComparer.Default);

        private static async Task<Solution> MakeAsync(Document document, SyntaxNode function, IMethodSymbol method, SyntaxNode waiting, SyntaxNode awaiting,
            Compilation compilation, CancellationToken ct)
        {
            SyntaxNode root = (await document.GetSyntaxRootAsync(ct).ConfigureAwait(false))!;
            var marker = new SyntaxAnnotation();
            // An event handler must keep its void signature to stay subscribable: it becomes async void, as the IDE's fix makes it.
            bool keepVoid = IsEventHandler(method, compilation);
            TypeSyntax NewReturnType(TypeSyntax returnType) => keepVoid ? returnType : TaskOf(returnType, method);
            SyntaxNode awaited = function.ReplaceNode(waiting, awaiting);
            SyntaxNode asyncFunction = awaited switch
            {
                MethodDeclarationSyntax m => m.WithModifiers(AddAsync(m.Modifiers, m.ReturnType, out TypeSyntax returnType)).WithReturnType(NewReturnType(returnType)),
                LocalFunctionStatementSyntax l => l.WithModifiers(AddAsync(l.Modifiers, l.ReturnType, out TypeSyntax returnType)).WithReturnType(NewReturnType(returnType)),
                _ => throw new System.InvalidOperationException("not a method or local function"),
            };
            Document changed = document.WithSyntaxRoot(root.ReplaceNode(function, asyncFunction.WithAdditionalAnnotations(marker)));

            // The Async suffix, as .NET names asynchronous methods; an entry point and an event handler keep their names.
            string newName = method.Name + "Async";
            if (keepVoid || method.Name.EndsWith("Async", System.StringComparison.Ordinal) || SymbolEqualityComparer.Default.Equals(compilation.GetEntryPoint(ct), method))
                return changed.Project.Solution;
            SemanticModel model = (await changed.GetSemanticModelAsync(ct).ConfigureAwait(false))!;
            SyntaxNode renamed = (await changed.GetSyntaxRootAsync(ct).ConfigureAwait(false))!.GetAnnotatedNodes(marker).Single();
            if (model.GetDeclaredSymbol(renamed, ct) is not IMethodSymbol symbol || !model.LookupSymbols(renamed.SpanStart, name: newName).IsEmpty)
                return changed.Project.Solution;
            return await Renamer.RenameSymbolAsync(changed.Project.Solution, symbol, new SymbolRenameOptions(), newName, ct).ConfigureAwait(false);
        }

        /// <summary><c>void M(object sender, EventArgs e)</c>, with any <c>EventArgs</c>-derived second parameter.</summary>
        private static bool IsEventHandler(IMethodSymbol method, Compilation compilation)
        {
            if (!method.ReturnsVoid || method.Parameters.Length != 2 || method.Parameters[0].Type.SpecialType != SpecialType.System_Object) return false;
            INamedTypeSymbol? eventArgs = compilation.GetTypeByMetadataName("System.EventArgs");
            for (ITypeSymbol? type = method.Parameters[1].Type; type is not null; type = type.BaseType)
                if (SymbolEqualityComparer.Default.Equals(type, eventArgs)) return true;
            return false;
        }

        /// <summary>Adds <c>async</c> as the last modifier; with no modifiers it takes the return type's leading trivia.</summary>
        private static SyntaxTokenList AddAsync(SyntaxTokenList modifiers, TypeSyntax returnType, out TypeSyntax newReturnType)
        {
            SyntaxToken asyncKeyword = SyntaxFactory.Token(SyntaxKind.AsyncKeyword).WithTrailingTrivia(SyntaxFactory.Space);
            if (modifiers.Count > 0)
            {
                newReturnType = returnType;
                return modifiers.Add(asyncKeyword);
            }
            newReturnType = returnType.WithLeadingTrivia();
            return modifiers.Add(asyncKeyword.WithLeadingTrivia(returnType.GetLeadingTrivia()));
        }

        /// <summary><c>void</c> → <c>Task</c>, <c>T</c> → <c>Task&lt;T&gt;</c>, written in full and simplified against the file's usings.</summary>
        private static TypeSyntax TaskOf(TypeSyntax returnType, IMethodSymbol method)
        {
            TypeSyntax task = SyntaxFactory.ParseTypeName(method.ReturnsVoid
                ? "global::System.Threading.Tasks.Task"
                : $"global::System.Threading.Tasks.Task<{returnType.WithoutTrivia()}>");
            return task.WithTriviaFrom(returnType).WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation);
        }
    }
}
