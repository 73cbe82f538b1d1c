using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// MSDK2103: a generated model class's <c>Load</c> whose result is certainly never disposed — discarded, used only as
    /// the receiver of a call (<c>Stories15M.Load().Generate(p)</c>), or kept in a local (without <c>using</c>) that is
    /// only ever the receiver of calls and never disposed. A model that is returned, stored in a field, passed on or
    /// captured has another owner and is not reported.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class ModelNotDisposedAnalyzer : ModelSdkAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.ModelNotDisposed);

        /// <inheritdoc/>
        protected override void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCode)
        {
            start.RegisterOperationAction(op => Analyze(op, generatedCode), OperationKind.Invocation);
        }

        private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol generatedCode)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (!GeneratedModelTypes.IsLoad(invocation.TargetMethod, generatedCode)) return;
            if (!NeverDisposed(invocation)) return;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ModelNotDisposed, invocation.Syntax.GetLocation(), invocation.TargetMethod.ContainingType.Name));
        }

        private static bool NeverDisposed(IInvocationOperation load)
        {
            switch (load.SignificantParent())
            {
                case IExpressionStatementOperation:
                    return true;
                case IInvocationOperation call when call.Instance is not null && call.Instance.WithoutConversions() == load:
                    return !IsDispose(call.TargetMethod);
                case IPropertyReferenceOperation property when property.Instance is not null && property.Instance.WithoutConversions() == load:
                    return true;
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    return !IsUsingDeclaration(declarator) && OnlyCalledOn(declarator.Symbol, load.Root());
                default:
                    return false;
            }
        }

        /// <summary>True when every use of <paramref name="local"/> is a call or property read on it other than Dispose.</summary>
        private static bool OnlyCalledOn(ILocalSymbol local, IOperation root)
        {
            foreach (IOperation operation in root.Descendants())
            {
                if (operation is not ILocalReferenceOperation reference || !SymbolEqualityComparer.Default.Equals(reference.Local, local)) continue;
                bool calledOn = reference.SignificantParent() switch
                {
                    IInvocationOperation call => call.Instance is not null && call.Instance.WithoutConversions() == reference && !IsDispose(call.TargetMethod),
                    IPropertyReferenceOperation property => property.Instance is not null && property.Instance.WithoutConversions() == reference,
                    _ => false,
                };
                if (!calledOn) return false;
            }
            return true;
        }

        private static bool IsDispose(IMethodSymbol method) => method.Name is "Dispose" or "DisposeAsync";

        private static bool IsUsingDeclaration(IVariableDeclaratorOperation declarator)
        {
            for (IOperation? current = declarator.Parent; current is not null; current = current.Parent)
            {
                if (current is IUsingDeclarationOperation or IUsingOperation) return true;
                if (current is not (IVariableDeclarationOperation or IVariableDeclarationGroupOperation)) return false;
            }
            return false;
        }
    }
}
