using System.Globalization;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Pipeline;

/// <summary>
/// Limits on the quality a compression may lose, checked against the manifest's metrics after every build (a cached
/// artifact too, so tightening a gate is enforced without recompressing). Gates need evaluation data (MSDK1015).
/// </summary>
/// <param name="MaxPerplexityIncrease">Largest allowed perplexity / reference perplexity − 1 (0.03 = 3%).</param>
/// <param name="MaxKlDivergence">Largest allowed mean KL(P_reference ‖ P_compressed), in nats.</param>
public sealed record QualityGates(double? MaxPerplexityIncrease = null, double? MaxKlDivergence = null)
{
    public const string MaxPerplexityIncreaseOption = "MaxPerplexityIncrease";
    public const string MaxKlDivergenceOption = "MaxKLDivergence";

    public static QualityGates None { get; } = new();

    public bool Any => MaxPerplexityIncrease is not null || MaxKlDivergence is not null;

    /// <summary>Parses the two gate options ("3%" or "0.03"; a KL bound in nats); MSDK1012 on a bad value.</summary>
    public static QualityGates Parse(string? maxPerplexityIncrease, string? maxKlDivergence)
    {
        var options = new PassOptions([new(MaxPerplexityIncreaseOption, maxPerplexityIncrease ?? ""), new(MaxKlDivergenceOption, maxKlDivergence ?? "")]);
        double? Get(string name) => options.Has(name) ? options.GetDouble(name, 0, 0, 1e6) : null;
        return new QualityGates(Get(MaxPerplexityIncreaseOption), Get(MaxKlDivergenceOption));
    }

    /// <summary>MSDK1016 when <paramref name="metrics"/> exceed a gate; MSDK1015 when there are gates but no metrics.</summary>
    public void Check(QualityMetrics? metrics, string what)
    {
        if (!Any) return;
        if (metrics is null)
            throw new ModelSdkException(DiagnosticCodes.EvaluationDataInvalid,
                $"{(MaxPerplexityIncrease is not null ? MaxPerplexityIncreaseOption : MaxKlDivergenceOption)} needs EvaluationData: the gate is measured on an evaluation text.");
        var failures = new List<string>();
        if (MaxPerplexityIncrease is { } maxIncrease && metrics.PerplexityIncrease > maxIncrease)
            failures.Add($"perplexity {Number(metrics.Perplexity)} is {Percent(metrics.PerplexityIncrease)} above the uncompressed {Number(metrics.ReferencePerplexity)}, " +
                $"more than {MaxPerplexityIncreaseOption}={Percent(maxIncrease)}");
        if (MaxKlDivergence is { } maxKl && metrics.KlDivergence > maxKl)
            failures.Add($"KL divergence {Number(metrics.KlDivergence)} is more than {MaxKlDivergenceOption}={Number(maxKl)}");
        if (failures.Count > 0)
            throw new ModelSdkException(DiagnosticCodes.QualityGateFailed, $"{what}: {string.Join("; ", failures)} (on {metrics.Text}, {metrics.Tokens} tokens).");
    }

    /// <summary>One line: "perplexity 3.6523 (uncompressed 3.3450, +9.19%), KL 0.1107, top-1 86.34%, 26540 tokens of dev.txt".</summary>
    public static string Describe(QualityMetrics m)
        => $"perplexity {Number(m.Perplexity)} (uncompressed {Number(m.ReferencePerplexity)}, {(m.PerplexityIncrease >= 0 ? "+" : "")}{Percent(m.PerplexityIncrease)}), " +
           $"KL {Number(m.KlDivergence)}, top-1 agreement {Percent(m.Top1Agreement)}, {m.Tokens} tokens of {m.Text}";

    private static string Number(double value) => value.ToString("0.0000##", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
