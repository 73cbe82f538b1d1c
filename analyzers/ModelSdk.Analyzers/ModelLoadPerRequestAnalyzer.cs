using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// MSDK2105: a generated model class's <c>Load</c> in code that ASP.NET Core runs for every request: a constructor,
    /// instance method or instance field initializer of a controller (<c>ControllerBase</c>), Razor page model
    /// (<c>PageModel</c>) or SignalR hub (<c>Hub</c>) — all created per request or call — a middleware's
    /// <c>Invoke</c>/<c>InvokeAsync(HttpContext, ...)</c>, or a minimal-API route handler lambda (<c>MapGet</c>, ...).
    /// A lambda inside those (e.g. <c>Lazy&lt;T&gt;</c>'s factory) may run once, and static members run once: neither is reported.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class ModelLoadPerRequestAnalyzer : ModelSdkAnalyzer
    {
        private static readonly string[] PerRequestBaseTypes =
        [
            "Microsoft.AspNetCore.Mvc.ControllerBase",
            "Microsoft.AspNetCore.Mvc.RazorPages.PageModel",
            "Microsoft.AspNetCore.SignalR.Hub",
        ];

        private static readonly string[] RouteHandlerMethods =
            ["Map", "MapGet", "MapPost", "MapPut", "MapDelete", "MapPatch", "MapMethods", "MapFallback"];

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.ModelLoadedPerRequest);

        /// <inheritdoc/>
        protected override void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCode)
        {
            var perRequestTypes = PerRequestBaseTypes.Select(start.Compilation.GetTypeByMetadataName).Where(t => t is not null).ToImmutableArray();
            INamedTypeSymbol? httpContext = start.Compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpContext");
            INamedTypeSymbol? routeBuilder = start.Compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions");
            if (perRequestTypes.IsEmpty && httpContext is null && routeBuilder is null) return; // not a web app
            start.RegisterOperationAction(op => Analyze(op, generatedCode, perRequestTypes!, httpContext, routeBuilder), OperationKind.Invocation);
        }

        private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol generatedCode,
            ImmutableArray<INamedTypeSymbol> perRequestTypes, INamedTypeSymbol? httpContext, INamedTypeSymbol? routeBuilder)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (!GeneratedModelTypes.IsLoad(invocation.TargetMethod, generatedCode)) return;
            if (PerRequestPlace(invocation, context.ContainingSymbol, perRequestTypes, httpContext, routeBuilder) is not { } place) return;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ModelLoadedPerRequest, invocation.Syntax.GetLocation(), invocation.TargetMethod.ContainingType.Name, place));
        }

        /// <summary>Where the call runs per request, in words, or null.</summary>
        private static string? PerRequestPlace(IOperation load, ISymbol member, ImmutableArray<INamedTypeSymbol> perRequestTypes,
            INamedTypeSymbol? httpContext, INamedTypeSymbol? routeBuilder)
        {
            for (IOperation? current = load.Parent; current is not null; current = current.Parent)
            {
                if (current is IAnonymousFunctionOperation lambda)
                    return IsRouteHandler(lambda, routeBuilder) ? "in a route handler" : null;
                if (current is ILocalFunctionOperation) return null;
            }
            if (member.IsStatic) return null;
            INamedTypeSymbol? type = member.ContainingType;
            for (INamedTypeSymbol? baseType = type?.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                INamedTypeSymbol original = baseType.OriginalDefinition;
                if (perRequestTypes.Any(t => SymbolEqualityComparer.Default.Equals(t, original)))
                    return $"'{type!.Name}' is created for every request as a {original.Name}";
            }
            if (member is IMethodSymbol { Name: "Invoke" or "InvokeAsync" } method && httpContext is not null
                && method.Parameters.Length > 0 && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, httpContext))
                return $"'{type!.Name}.{method.Name}' is middleware, run for every request";
            return null;
        }

        private static bool IsRouteHandler(IAnonymousFunctionOperation lambda, INamedTypeSymbol? routeBuilder)
        {
            if (routeBuilder is null) return false;
            return Operations.CallTakingLambda(lambda) is { } call &&
                SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, routeBuilder) &&
                RouteHandlerMethods.Contains(call.TargetMethod.Name);
        }
    }
}
