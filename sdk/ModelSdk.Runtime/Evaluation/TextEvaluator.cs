using ModelSdk.Runtime.Llama;

namespace ModelSdk.Runtime.Evaluation;

/// <summary>
/// Scores a model on a text with llama2.c's protocol: each document is tokenized on its own with BOS; its tokens are
/// scored in non-overlapping windows of ContextLength targets, each window fed as [BOS, s_c, ..., s_(c+L-2)] at
/// positions 0..L-1 and scoring s_c..s_(c+L-1); every document token is scored once, BOS never.
/// Perplexity = exp(mean NLL in nats); with a reference model, KL(P_reference ‖ P_model) per position and top-1 agreement.
/// </summary>
public static class TextEvaluator
{
    public static EvaluationResult Evaluate(LanguageModel model, string text, LanguageModel? reference = null,
        int maxTokens = int.MaxValue, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        if (reference is not null && (reference.Config.VocabSize != model.Config.VocabSize || reference.Config.ContextLength != model.Config.ContextLength))
            throw new ArgumentException("The reference model must have the same vocabulary and context length.", nameof(reference));

        var bos = model.Manifest.Tokenizer.BosId;
        var window = model.Config.ContextLength;
        using var session = model.Transformer.CreateSession();
        using var referenceSession = reference?.Transformer.CreateSession();
        var logProbs = new double[model.Config.VocabSize];
        var referenceLogProbs = new double[model.Config.VocabSize];

        double nll = 0, referenceNll = 0, kl = 0;
        int scored = 0, agreed = 0;
        foreach (var document in EvaluationText.SplitDocuments(text))
        {
            var ids = model.Tokenize(document, addBos: true);
            var tokens = ids.AsSpan(1); // the document's tokens; BOS is never scored
            for (var start = 0; start < tokens.Length && scored < maxTokens; start += window)
            {
                var count = Math.Min(Math.Min(window, tokens.Length - start), maxTokens - scored);
                for (var pos = 0; pos < count; pos++)
                {
                    ct.ThrowIfCancellationRequested();
                    var input = pos == 0 ? bos : tokens[start + pos - 1];
                    var target = tokens[start + pos];
                    session.Forward(input, pos, computeLogits: true);
                    LogSoftmax(session.LogitsSpan, logProbs);
                    nll -= logProbs[target];
                    if (referenceSession is not null)
                    {
                        referenceSession.Forward(input, pos, computeLogits: true);
                        LogSoftmax(referenceSession.LogitsSpan, referenceLogProbs);
                        referenceNll -= referenceLogProbs[target];
                        kl += KlDivergence(referenceLogProbs, logProbs);
                        if (ArgMax(referenceLogProbs) == ArgMax(logProbs)) agreed++;
                    }
                    scored++;
                }
            }
        }
        if (scored == 0) throw new ArgumentException("The evaluation text has no tokens to score.", nameof(text));
        return new EvaluationResult(scored, Math.Exp(nll / scored),
            referenceSession is null ? null : kl / scored,
            referenceSession is null ? null : (double)agreed / scored)
        {
            ReferencePerplexity = referenceSession is null ? null : Math.Exp(referenceNll / scored),
        };
    }

    /// <summary>log softmax in double precision, so the sums over 32000 classes lose nothing.</summary>
    internal static void LogSoftmax(ReadOnlySpan<float> logits, Span<double> result)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        var logSum = max + Math.Log(sum);
        for (var i = 0; i < logits.Length; i++) result[i] = logits[i] - logSum;
    }

    /// <summary>KL(P ‖ Q) = Σ p (log p − log q), from log-probabilities.</summary>
    internal static double KlDivergence(ReadOnlySpan<double> logP, ReadOnlySpan<double> logQ)
    {
        double kl = 0;
        for (var i = 0; i < logP.Length; i++)
        {
            var p = Math.Exp(logP[i]);
            if (p > 0) kl += p * (logP[i] - logQ[i]);
        }
        return kl;
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
