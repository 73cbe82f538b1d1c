using ModelSdk.Artifacts;

namespace ModelSdk.Runtime.Evaluation;

/// <summary>
/// What the build and <c>modelsdk compress</c> measure after compressing: a compiled artifact against the uncompressed
/// one on an evaluation text (<see cref="TextEvaluator"/>'s protocol), as the manifest's <see cref="QualityMetrics"/>.
/// </summary>
public static class ArtifactComparison
{
    public static QualityMetrics Compare(string artifactPath, string referenceArtifactPath, string textPath, int? threads = null,
        CancellationToken ct = default)
    {
        // Quality is measured on the CPU kernels (TextEvaluator reads CPU sessions), whatever GPU the build machine has.
        var options = new LoadOptions { Threads = threads, Device = ModelDevice.Cpu };
        using var model = LanguageModel.Load(artifactPath, options);
        using var reference = LanguageModel.Load(referenceArtifactPath, options);
        var result = TextEvaluator.Evaluate(model, File.ReadAllText(textPath), reference, ct: ct);
        var referencePerplexity = result.ReferencePerplexity!.Value;
        return new QualityMetrics
        {
            Text = Path.GetFileName(textPath),
            Tokens = result.Tokens,
            Perplexity = result.Perplexity,
            ReferencePerplexity = referencePerplexity,
            PerplexityIncrease = result.Perplexity / referencePerplexity - 1,
            KlDivergence = result.KlDivergence!.Value,
            Top1Agreement = result.Top1Agreement!.Value,
        };
    }
}
