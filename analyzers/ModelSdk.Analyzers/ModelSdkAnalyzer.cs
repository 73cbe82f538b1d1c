using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// The registration every ModelSdk analyzer shares: generated code is not analyzed, analysis runs concurrently, and a
    /// compilation without <c>[GeneratedCode]</c> (so without any generated model class) costs nothing.
    /// </summary>
    public abstract class ModelSdkAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public sealed override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                INamedTypeSymbol? generatedCode = start.Compilation.GetTypeByMetadataName("System.CodeDom.Compiler.GeneratedCodeAttribute");
                if (generatedCode is not null) OnCompilationStart(start, generatedCode);
            });
        }

        /// <summary>Registers the analyzer's actions for a compilation that has <paramref name="generatedCodeAttribute"/>.</summary>
        protected abstract void OnCompilationStart(CompilationStartAnalysisContext start, INamedTypeSymbol generatedCodeAttribute);
    }
}
