using ModelSdk.Artifacts;

namespace ModelSdk.Compression.Pipeline;

/// <summary>How a compile reports and what it may call out to; nothing here changes the artifact's bytes except the metrics it measures.</summary>
public sealed class CompileOptions
{
    /// <summary>Progress and timing messages (each pass logs its start, progress in tenths and its time).</summary>
    public Action<string>? Log { get; init; }

    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Measures a compiled model against the uncompressed one on the request's evaluation text:
    /// (compressed artifact path, reference artifact path, evaluation text path) → metrics. The compression library
    /// cannot run models; the build task and the CLI supply this with the runtime's TextEvaluator.
    /// </summary>
    public Func<string, string, string, QualityMetrics>? Evaluate { get; init; }
}
