using Microsoft.CodeAnalysis;

namespace ModelSdk.Analyzers
{
    /// <summary>The types whose generation APIs the analyzers know: generated model classes and the runtime's LanguageModel (matched by name).</summary>
    internal sealed class ModelTypes
    {
        private readonly INamedTypeSymbol _generatedCode;
        private readonly INamedTypeSymbol? _runtimeModel;

        public ModelTypes(INamedTypeSymbol generatedCode, INamedTypeSymbol? runtimeModel)
        {
            _generatedCode = generatedCode;
            _runtimeModel = runtimeModel;
        }

        public bool IsModel(INamedTypeSymbol? type)
            => SymbolEqualityComparer.Default.Equals(type, _runtimeModel) || GeneratedModelTypes.IsGeneratedModel(type, _generatedCode);
    }
}
