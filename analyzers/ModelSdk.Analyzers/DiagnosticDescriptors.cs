using Microsoft.CodeAnalysis;

namespace ModelSdk.Analyzers
{
    /// <summary>
    /// Every diagnostic the analyzers report, in one place. Ids are stable: never reuse or renumber one
    /// (MSDK21xx: use of generated model classes). Each has a page under docs/diagnostics/.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "ModelSdk.Usage";

        /// <summary>Docs folder of the repository; one page per id.</summary>
        private const string HelpLinkBase = "docs/diagnostics/";

        public static readonly DiagnosticDescriptor ModelLoadedInLoop = new DiagnosticDescriptor(
            id: "MSDK2101",
            title: "Model loaded inside a loop",
            messageFormat: "'{0}.Load' runs on every iteration and maps and verifies the whole artifact each time; load the model once before the loop and reuse the instance",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Loading a model maps the artifact, verifies its hashes and prepares the backend. A model instance is meant to be loaded once and reused for every prompt.",
            helpLinkUri: HelpLinkBase + "MSDK2101.md");

        public static readonly DiagnosticDescriptor StreamingResultDiscarded = new DiagnosticDescriptor(
            id: "MSDK2102",
            title: "Streaming generation is never enumerated",
            messageFormat: "The result of '{0}' is discarded, so nothing is generated; enumerate it with 'await foreach', or call 'Generate' for the whole text",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "GenerateStreamingAsync returns a lazy IAsyncEnumerable<string>: generation starts only when it is enumerated.",
            helpLinkUri: HelpLinkBase + "MSDK2102.md");
    }
}
