using ModelSdk.Runtime.Evaluation;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Evaluation;

public sealed class TextEvaluatorTests
{
    private static string DevText => File.ReadAllText(Path.Combine(TestModels.RepoRoot, "..", "shared", "eval", "dev.txt"));

    [Fact]
    public void DevText_Has111Stories_And26540ScoredTokens()
    {
        var stories = EvaluationText.SplitDocuments(DevText);
        Assert.Equal(111, stories.Count);
        // The protocol scores every story token once and BOS never: the reference tables count 26540.
        Assert.Equal(26540, stories.Sum(s => TestModels.Stories15M.Tokenize(s, addBos: true).Length - 1));
    }

    [Fact]
    public void Perplexity_IsExpOfTheMeanNll_OfEachNextToken()
    {
        const string story = "Tom had a red ball. He threw it to his dog, and the dog ran fast to get it.";
        var model = TestModels.Stories15M;
        var result = TextEvaluator.Evaluate(model, story);

        // Independently: one forward run per prefix through the public API.
        var ids = model.Tokenize(story, addBos: true);
        double nll = 0;
        var logProbs = new double[model.Config.VocabSize];
        for (var i = 1; i < ids.Length; i++)
        {
            TextEvaluator.LogSoftmax(model.GetNextTokenLogits(ids.AsSpan(0, i)), logProbs);
            nll -= logProbs[ids[i]];
        }
        Assert.Equal(ids.Length - 1, result.Tokens);
        Assert.Equal(Math.Exp(nll / (ids.Length - 1)), result.Perplexity, 1e-9);
        Assert.Null(result.KlDivergence);
    }

    [Fact]
    public void AgainstItself_KlIsZero_AndTop1AgreementIsOne()
    {
        var result = TextEvaluator.Evaluate(TestModels.Stories15M, DevText, TestModels.Stories15M, maxTokens: 300);
        Assert.Equal(300, result.Tokens);
        Assert.Equal(0, result.KlDivergence!.Value, 1e-12);
        Assert.Equal(1.0, result.Top1Agreement);
        Assert.InRange(result.Perplexity, 1.5, 8); // a trained model on held-out stories of its own kind
    }

    [Fact]
    public void KlDivergence_OfKnownDistributions()
    {
        double[] p = [Math.Log(0.5), Math.Log(0.5)], q = [Math.Log(0.25), Math.Log(0.75)];
        Assert.Equal(0.5 * Math.Log(2) + 0.5 * Math.Log(0.5 / 0.75), TextEvaluator.KlDivergence(p, q), 1e-12);
    }

    [Fact]
    public void SplitDocuments_IgnoresEmptyDocuments_AndAcceptsCrLf()
        => Assert.Equal(["a b", "c"], EvaluationText.SplitDocuments("a b\r\n<|endoftext|>\r\n\r\n<|endoftext|>\nc\n<|endoftext|>\n"));
}
