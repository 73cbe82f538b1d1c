using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// MSDK2102: <c>GenerateStreamingAsync(...)</c> as a statement or assigned to a discard. It returns a lazy
    /// IAsyncEnumerable, so such a call generates nothing — usually a forgotten <c>await foreach</c>.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class StreamingResultDiscardedAnalyzer : ModelSdkAnalyzer
    {
        private const string MethodName = "GenerateStreamingAsync";

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.StreamingResultDiscarded);

        /// <inheritdoc/>
        protected override void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCode)
        {
            // The runtime type is matched by name so the analyzer needs no reference to the runtime.
            INamedTypeSymbol? runtimeModel = start.Compilation.GetTypeByMetadataName("ModelSdk.Runtime.LanguageModel");
            start.RegisterOperationAction(op => Analyze(op, generatedCode, runtimeModel), OperationKind.Invocation);
        }

        private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol generatedCode, INamedTypeSymbol? runtimeModel)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol method = invocation.TargetMethod;
            if (method.Name != MethodName || method.IsStatic) return;
            if (!IsDiscarded(invocation)) return;
            INamedTypeSymbol type = method.ContainingType;
            if (!SymbolEqualityComparer.Default.Equals(type, runtimeModel) && !GeneratedModelTypes.IsGeneratedModel(type, generatedCode)) return;

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.StreamingResultDiscarded, invocation.Syntax.GetLocation(), type.Name + "." + MethodName));
        }

        private static bool IsDiscarded(IInvocationOperation invocation)
        {
            IOperation? parent = invocation.Parent;
            while (parent is IConversionOperation) parent = parent.Parent;
            return parent is IExpressionStatementOperation ||
                (parent is ISimpleAssignmentOperation { Target: IDiscardOperation } assignment && assignment.Parent is IExpressionStatementOperation);
        }
    }
}
