using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;

namespace ModelSdk.Runtime.Sampling;

/// <summary>
/// llama2.c's sampler: greedy argmax at temperature 0; otherwise logits / temperature, softmax, then nucleus
/// (top-p) sampling when 0 &lt; topP &lt; 1, else sampling from the whole distribution, with one xorshift draw per token.
/// The candidate buffer is allocated once per generation.
/// </summary>
internal sealed unsafe class Sampler
{
    private readonly float _temperature;
    private readonly float _topP;
    private readonly VectorWidth _width;
    private readonly ProbIndex[] _candidates;
    private XorShiftRandom _random;

    public Sampler(int vocabSize, float temperature, float topP, ulong seed, VectorWidth width)
    {
        _temperature = temperature;
        _topP = topP;
        _width = width;
        _random = new XorShiftRandom(seed);
        _candidates = temperature == 0 || topP <= 0 || topP >= 1 ? [] : new ProbIndex[vocabSize];
    }

    public ulong State => _random.State;

    /// <summary>Temperature 0: the pick is the argmax of the logits (a GPU session finds it on the device).</summary>
    public bool IsGreedy => _temperature == 0;

    /// <summary>Picks the next token; overwrites <paramref name="logits"/> with probabilities unless greedy.</summary>
    public int Sample(Span<float> logits)
    {
        fixed (float* p = logits)
        {
            var n = logits.Length;
            if (_temperature == 0) return Argmax.Find(p, n, _width);
            for (var i = 0; i < n; i++) p[i] /= _temperature;
            Softmax.Apply(p, n, _width);
            var coin = _random.NextSingle();
            return _topP <= 0 || _topP >= 1 ? SampleMultinomial(logits, coin) : SampleTopP(logits, _topP, _candidates, coin);
        }
    }

    /// <summary>run.c's <c>sample_mult</c>: the first index whose cumulative probability exceeds the coin.</summary>
    internal static int SampleMultinomial(ReadOnlySpan<float> probabilities, float coin)
    {
        var cdf = 0.0f;
        for (var i = 0; i < probabilities.Length; i++)
        {
            cdf += probabilities[i];
            if (coin < cdf) return i;
        }
        return probabilities.Length - 1; // rounding errors
    }

    /// <summary>
    /// run.c's <c>sample_topp</c>: keep the tokens with probability ≥ (1 − topP)/(n − 1) (they cannot all be cut, and it
    /// makes the sort short), sort them by descending probability (ties: lower id first, as glibc's stable qsort), take
    /// the smallest prefix whose mass exceeds topP, and sample within it.
    /// </summary>
    internal static int SampleTopP(ReadOnlySpan<float> probabilities, float topP, ProbIndex[] candidates, float coin)
    {
        var n = probabilities.Length;
        var cutoff = (1.0f - topP) / (n - 1);
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            if (probabilities[i] >= cutoff) candidates[count++] = new ProbIndex(probabilities[i], i);
        }
        if (count == 0) return SampleMultinomial(probabilities, coin); // only when topP < 1/n: nothing passes the cutoff
        var sorted = candidates.AsSpan(0, count);
        sorted.Sort(static (a, b) => a.Prob != b.Prob ? b.Prob.CompareTo(a.Prob) : a.Index.CompareTo(b.Index));

        var cumulative = 0.0f;
        var last = count - 1;
        for (var i = 0; i < count; i++)
        {
            cumulative += sorted[i].Prob;
            if (cumulative > topP)
            {
                last = i;
                break;
            }
        }

        var r = coin * cumulative;
        var cdf = 0.0f;
        for (var i = 0; i <= last; i++)
        {
            cdf += sorted[i].Prob;
            if (r < cdf) return sorted[i].Index;
        }
        return sorted[last].Index; // rounding errors
    }

    internal readonly record struct ProbIndex(float Prob, int Index);
}
