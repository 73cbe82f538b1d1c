using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelSdk.Analyzers.CodeFixes
{
    /// <summary>Finds the statement a reported <c>Load</c> call initializes: <c>[using] var model = X.Load(...);</c> with one variable.</summary>
    internal static class LoadDeclarations
    {
        public static LocalDeclarationStatementSyntax? Of(SyntaxNode reported)
        {
            InvocationExpressionSyntax? load = reported as InvocationExpressionSyntax ?? reported.FirstAncestorOrSelf<InvocationExpressionSyntax>();
            if (load is null) return null;
            SyntaxNode? parent = load.Parent;
            while (parent is ParenthesizedExpressionSyntax or CastExpressionSyntax) parent = parent.Parent;
            if (parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax declaration } }) return null;
            if (declaration.Variables.Count != 1) return null;
            return declaration.Parent as LocalDeclarationStatementSyntax;
        }
    }
}
