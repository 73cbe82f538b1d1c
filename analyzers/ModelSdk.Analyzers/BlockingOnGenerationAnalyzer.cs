using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// MSDK2104: a blocking wait on a model's streaming generation — <c>.Result</c>, <c>.Wait()</c> or
    /// <c>.GetAwaiter().GetResult()</c> on a task made from <c>GenerateStreamingAsync</c> (e.g.
    /// <c>stream.ToListAsync().Result</c>, <c>enumerator.MoveNextAsync().AsTask().Wait()</c>), and
    /// <c>ToBlockingEnumerable()</c> of it inside an async function (in synchronous code it is the documented way to
    /// consume a stream, and is not reported). The task is traced through its receivers and arguments, and through
    /// locals to their initializers.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class BlockingOnGenerationAnalyzer : ModelSdkAnalyzer
    {
        private const string StreamingMethod = "GenerateStreamingAsync";

        /// <summary>How many locals are followed back to their initializer.</summary>
        private const int MaxLocalHops = 3;

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.BlockingOnGeneration);

        /// <inheritdoc/>
        protected override void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCode)
        {
            INamedTypeSymbol? runtimeModel = start.Compilation.GetTypeByMetadataName("ModelSdk.Runtime.LanguageModel");
            var models = new ModelTypes(generatedCode, runtimeModel);
            start.RegisterOperationAction(op => AnalyzeInvocation(op, models), OperationKind.Invocation);
            start.RegisterOperationAction(op => AnalyzeResult(op, models), OperationKind.PropertyReference);
        }

        private static void AnalyzeInvocation(OperationAnalysisContext context, ModelTypes models)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol method = invocation.TargetMethod;
            IOperation? waited;
            if (method.Name == "Wait" && IsTask(method.ContainingType)) waited = invocation.Instance;
            else if (method.Name == "GetResult" && IsAwaiter(method.ContainingType)) waited = invocation.Instance;
            else if (method.Name == "ToBlockingEnumerable" && method.IsExtensionMethod && InAsyncFunction(invocation)) waited = invocation.Arguments.FirstOrDefault()?.Value;
            else return;
            if (waited is null || !FromStreaming(waited, models, MaxLocalHops)) return;
            Report(context, invocation, method.Name == "ToBlockingEnumerable" ? "ToBlockingEnumerable()" : method.Name == "Wait" ? ".Wait()" : ".GetAwaiter().GetResult()");
        }

        private static void AnalyzeResult(OperationAnalysisContext context, ModelTypes models)
        {
            var property = (IPropertyReferenceOperation)context.Operation;
            if (property.Property.Name != "Result" || !IsTask(property.Property.ContainingType)) return;
            if (property.Instance is null || !FromStreaming(property.Instance, models, MaxLocalHops)) return;
            Report(context, property, ".Result");
        }

        private static void Report(OperationAnalysisContext context, IOperation operation, string what)
            => context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.BlockingOnGeneration, operation.Syntax.GetLocation(), what));

        /// <summary>True when <paramref name="operation"/> is computed from a model's GenerateStreamingAsync call.</summary>
        private static bool FromStreaming(IOperation operation, ModelTypes models, int hops)
        {
            foreach (IOperation part in operation.DescendantsAndSelf())
            {
                if (part is IInvocationOperation call && call.TargetMethod.Name == StreamingMethod && !call.TargetMethod.IsStatic
                    && models.IsModel(call.TargetMethod.ContainingType))
                    return true;
                if (hops > 0 && part is ILocalReferenceOperation local && Initializer(local, operation) is { } initializer
                    && FromStreaming(initializer, models, hops - 1))
                    return true;
            }
            return false;
        }

        private static IOperation? Initializer(ILocalReferenceOperation reference, IOperation from)
        {
            foreach (IOperation operation in from.Root().Descendants())
            {
                if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, reference.Local))
                    return declarator.Initializer?.Value;
            }
            return null;
        }

        private static bool InAsyncFunction(IOperation operation)
        {
            for (IOperation? current = operation; current is not null; current = current.Parent)
            {
                if (current is IAnonymousFunctionOperation lambda) return lambda.Symbol.IsAsync;
                if (current is ILocalFunctionOperation local) return local.Symbol.IsAsync;
            }
            return operation.SemanticModel?.GetEnclosingSymbol(operation.Syntax.SpanStart) is IMethodSymbol { IsAsync: true };
        }

        private static bool IsTask(INamedTypeSymbol? type)
            => type is not null && type.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks" && type.Name is "Task" or "ValueTask";

        private static bool IsAwaiter(INamedTypeSymbol? type)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (current.ContainingNamespace?.ToDisplayString() == "System.Runtime.CompilerServices"
                    && current.Name is "TaskAwaiter" or "ValueTaskAwaiter" or "ConfiguredTaskAwaitable" or "ConfiguredValueTaskAwaitable")
                    return true;
            }
            return false;
        }
    }
}
