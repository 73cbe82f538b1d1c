using Microsoft.CodeAnalysis;

namespace ModelSdk.Generators
{
    /// <summary>
    /// Every diagnostic the generator reports, in one place. Ids are stable: never reuse or renumber one
    /// (MSDK15xx: the generator). Each has a page under docs/diagnostics/.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "ModelSdk.Generator";

        /// <summary>Docs folder of the repository; one page per id.</summary>
        private const string HelpLinkBase = "docs/diagnostics/";

        public static readonly DiagnosticDescriptor InvalidManifest = new DiagnosticDescriptor(
            id: "MSDK1501",
            title: "ModelSdk manifest is invalid",
            messageFormat: "ModelSdk manifest '{0}' is invalid: {1}",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "The build writes the .msdk.json manifest that the generator reads; a damaged or hand-edited one cannot produce the model class. Rebuild the project to rewrite it.",
            helpLinkUri: HelpLinkBase + "MSDK1501.md");

        public static readonly DiagnosticDescriptor IncompatibleSchema = new DiagnosticDescriptor(
            id: "MSDK1502",
            title: "ModelSdk manifest was written by an incompatible ModelSdk",
            messageFormat: "ModelSdk manifest '{0}' has schema '{1}' but this generator reads '{2}': it was written by an incompatible ModelSdk; rebuild the project",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "The manifest's schema tells which ModelSdk wrote it. The build task and the generator come from the same package, so a mismatch means a stale obj/ folder or mixed package versions.",
            helpLinkUri: HelpLinkBase + "MSDK1502.md");

        public static readonly DiagnosticDescriptor DuplicateClass = new DiagnosticDescriptor(
            id: "MSDK1503",
            title: "Two ModelSdk manifests generate the same class",
            messageFormat: "ModelSdk manifest '{0}' generates '{1}', which another manifest already generates; give each Model item a distinct ClassName or Namespace",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "Each Model item becomes one class; two items with the same ClassName and Namespace would define it twice.",
            helpLinkUri: HelpLinkBase + "MSDK1503.md");
    }
}
