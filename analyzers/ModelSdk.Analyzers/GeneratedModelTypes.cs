using Microsoft.CodeAnalysis;

namespace ModelSdk.Analyzers
{
    /// <summary>Recognises classes the ModelSdk generator wrote, by their [GeneratedCode] attribute (no reference to the runtime needed).</summary>
    internal static class GeneratedModelTypes
    {
        /// <summary>The generator's tool name. Keep in sync with ModelSdk.Generators' GeneratorInfo.ToolName.</summary>
        public const string GeneratorToolName = "ModelSdk.Generators";

        /// <summary>The static <c>Load</c> of a generated model class.</summary>
        public static bool IsLoad(IMethodSymbol method, INamedTypeSymbol generatedCodeAttribute)
            => method.Name == "Load" && method.IsStatic && IsGeneratedModel(method.ContainingType, generatedCodeAttribute);

        public static bool IsGeneratedModel(INamedTypeSymbol? type, INamedTypeSymbol generatedCodeAttribute)
        {
            if (type is null) return false;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, generatedCodeAttribute) &&
                    attribute.ConstructorArguments.Length > 0 &&
                    attribute.ConstructorArguments[0].Value is string tool &&
                    tool == GeneratorToolName)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
