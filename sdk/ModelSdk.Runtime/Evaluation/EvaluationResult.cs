namespace ModelSdk.Runtime.Evaluation;

/// <summary>
/// Quality of a model on a text: perplexity, and against a reference model (usually the uncompressed one) the mean
/// KL divergence KL(P_reference ‖ P_model) of next-token distributions and how often both pick the same top token.
/// </summary>
public sealed record EvaluationResult(int Tokens, double Perplexity, double? KlDivergence, double? Top1Agreement)
{
    /// <summary>Perplexity of the reference model on the same tokens (with a reference model).</summary>
    public double? ReferencePerplexity { get; init; }

    /// <summary>Mean negative log-likelihood per token, in nats.</summary>
    public double MeanNll => Math.Log(Perplexity);
}
