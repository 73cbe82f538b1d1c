namespace ModelSdk.Generators.Model
{
    /// <summary>
    /// The manifest's <c>metrics</c>: quality the build measured for the compressed model against the uncompressed one.
    /// Numbers are kept as the manifest spells them (round-trip JSON numbers), so the emitted constants are exact.
    /// </summary>
    internal sealed record QualitySpec(
        string Text,
        int Tokens,
        string Perplexity,
        string ReferencePerplexity,
        string PerplexityIncrease,
        string KlDivergence,
        string Top1Agreement);
}
