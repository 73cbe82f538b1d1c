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

        public static readonly DiagnosticDescriptor ModelNotDisposed = new DiagnosticDescriptor(
            id: "MSDK2103",
            title: "Loaded model is never disposed",
            messageFormat: "The model returned by '{0}.Load' is never disposed, so its memory mapping, weights and worker threads stay until the process ends; declare it with 'using', or dispose it when done",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A loaded model holds the mapped artifact, weight memory and worker threads (or GPU memory). Dispose it when it is no longer needed, or keep one instance for the application's lifetime.",
            helpLinkUri: HelpLinkBase + "MSDK2103.md");

        public static readonly DiagnosticDescriptor BlockingOnGeneration = new DiagnosticDescriptor(
            id: "MSDK2104",
            title: "Blocking wait on streaming generation",
            messageFormat: "'{0}' blocks the calling thread until generation finishes; enumerate the stream with 'await foreach', or call 'Generate' for the whole text synchronously",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "GenerateStreamingAsync runs the model on the thread pool and yields text as it is decoded. Waiting on it with .Result, .Wait(), GetAwaiter().GetResult() or, in an async method, ToBlockingEnumerable() holds a thread for the whole generation and can starve the pool or freeze a UI.",
            helpLinkUri: HelpLinkBase + "MSDK2104.md");

        public static readonly DiagnosticDescriptor ModelLoadedPerRequest = new DiagnosticDescriptor(
            id: "MSDK2105",
            title: "Model loaded on every request",
            messageFormat: "'{0}.Load' runs on every request ({1}); load the model once at startup and share the instance, for example as a singleton service, since it is safe to use from many threads",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Controllers, Razor pages and SignalR hubs are created for every request, and middleware Invoke methods and minimal-API route handlers run for every request. Loading a model there maps and verifies the whole artifact each time.",
            helpLinkUri: HelpLinkBase + "MSDK2105.md");
    }
}
