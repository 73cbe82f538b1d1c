using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// MSDK2101: a generated model class's static <c>Load</c> called where it runs once per iteration —
    /// in a loop's body or condition, or in a lambda that Parallel.For/ForEach runs per element.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class ModelLoadInLoopAnalyzer : ModelSdkAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.ModelLoadedInLoop);

        /// <inheritdoc/>
        protected override void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCode)
        {
            INamedTypeSymbol? parallel = start.Compilation.GetTypeByMetadataName("System.Threading.Tasks.Parallel");
            start.RegisterOperationAction(op => Analyze(op, generatedCode, parallel), OperationKind.Invocation);
        }

        private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol generatedCode, INamedTypeSymbol? parallel)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol method = invocation.TargetMethod;
            if (method.Name != "Load" || !method.IsStatic) return;
            if (!GeneratedModelTypes.IsGeneratedModel(method.ContainingType, generatedCode)) return;
            if (!RunsPerIteration(invocation, parallel)) return;

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ModelLoadedInLoop, invocation.Syntax.GetLocation(), method.ContainingType.Name));
        }

        /// <summary>
        /// Walks out from the call to the enclosing member. Parts of a loop that run once (a for's
        /// initializer, a foreach's collection) do not count; a lambda or local function ends the walk,
        /// since it may run once, unless it is the body Parallel.For/ForEach runs per element.
        /// </summary>
        private static bool RunsPerIteration(IOperation operation, INamedTypeSymbol? parallel)
        {
            IOperation child = operation;
            for (IOperation? current = operation.Parent; current is not null; child = current, current = current.Parent)
            {
                switch (current)
                {
                    case IForEachLoopOperation forEach:
                        if (child != forEach.Collection) return true;
                        break;
                    case IForLoopOperation forLoop:
                        if (!forLoop.Before.Contains(child)) return true;
                        break;
                    case IWhileLoopOperation:
                        return true; // while and do: condition and body both repeat
                    case IAnonymousFunctionOperation lambda:
                        return IsParallelLoopBody(lambda, parallel);
                    case ILocalFunctionOperation:
                        return false;
                }
            }
            return false;
        }

        private static bool IsParallelLoopBody(IAnonymousFunctionOperation lambda, INamedTypeSymbol? parallel)
        {
            if (parallel is null) return false;
            return Operations.CallTakingLambda(lambda) is { } call &&
                SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, parallel) &&
                call.TargetMethod.Name is "For" or "ForEach" or "ForEachAsync";
        }
    }
}
