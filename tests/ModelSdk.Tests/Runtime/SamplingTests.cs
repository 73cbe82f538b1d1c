using ModelSdk.Runtime.Sampling;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

public sealed class SamplingTests
{
    public static TheoryData<string, float, float, ulong, string> RunCCases()
    {
        var data = new TheoryData<string, float, float, ulong, string>();
        foreach (var row in TestModels.ReadTsv("stories15M.sampled.tsv"))
            data.Add(row[0], float.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture),
                float.Parse(row[2], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(row[3], System.Globalization.CultureInfo.InvariantCulture), row[4]);
        return data;
    }

    /// <summary>Same seed, same options: run.c's token sequence (its xorshift RNG, softmax, top-p cutoff and sort order).</summary>
    [Theory]
    [MemberData(nameof(RunCCases))]
    public void SeededSampling_ReproducesRunC(string prompt, float temperature, float topP, ulong seed, string runCIds)
    {
        var model = TestModels.Stories15M;
        var expected = TestModels.ParseIds(runCIds);
        var tokens = model.Tokenize(prompt);
        var options = new GenerationOptions { Temperature = temperature, TopP = topP, Seed = seed, MaxTokens = 256 };
        var generated = model.GenerateTokens(tokens, options).ToArray();
        int[] actual = [.. tokens[1..], .. generated];
        if (expected[^1] == 1) actual = [.. actual, 1];
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void SameSeed_SameText_DifferentSeed_DifferentText()
    {
        var model = TestModels.Stories15M;
        GenerationOptions Options(ulong seed) => new() { Temperature = 1.0f, TopP = 0.9f, Seed = seed, MaxTokens = 40 };
        var a = model.Generate("The cat", Options(7));
        var b = model.Generate("The cat", Options(7));
        var c = model.Generate("The cat", Options(8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void XorShift_IsRunCsGenerator()
    {
        // run.c: state ^= state >> 12; state ^= state << 25; state ^= state >> 27; return (state * 0x2545F4914F6CDD1D) >> 32.
        var random = new XorShiftRandom(42);
        ulong state = 42;
        for (var i = 0; i < 100; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            var expected = (uint)((state * 0x2545F4914F6CDD1DUL) >> 32);
            Assert.Equal(expected, random.NextUInt32());
        }
        var f = new XorShiftRandom(1).NextSingle();
        Assert.InRange(f, 0f, 0.99999994f);
        Assert.NotEqual(0UL, new XorShiftRandom(0).State); // 0 is xorshift's fixed point: replaced
    }

    [Fact]
    public void TopP_KeepsTheSmallestPrefixAboveTopP_AndBreaksTiesByLowerId()
    {
        float[] probabilities = [0.1f, 0.4f, 0.1f, 0.3f, 0.1f];
        var buffer = new Sampler.ProbIndex[probabilities.Length];
        // Sorted: 1 (0.4), 3 (0.3), then the ties 0, 2, 4 in id order. topP 0.6 keeps {1, 3} (mass 0.7).
        Assert.Equal(1, Sampler.SampleTopP(probabilities, 0.6f, buffer, 0.0f));
        Assert.Equal(1, Sampler.SampleTopP(probabilities, 0.6f, buffer, 0.5f)); // r = 0.35 < 0.4
        Assert.Equal(3, Sampler.SampleTopP(probabilities, 0.6f, buffer, 0.6f)); // r = 0.42
        Assert.Equal(3, Sampler.SampleTopP(probabilities, 0.6f, buffer, 0.9999f));
        // topP 0.75 needs one tie as well: the lowest id, 0.
        Assert.Equal(0, Sampler.SampleTopP(probabilities, 0.75f, buffer, 0.99f));
        Assert.Equal(4, Sampler.SampleMultinomial(probabilities, 0.95f));
        Assert.Equal(0, Sampler.SampleMultinomial(probabilities, 0.0f));
    }

    [Fact]
    public void Greedy_IgnoresTheSeed()
    {
        var model = TestModels.Stories15M;
        var a = model.Generate("A bird", new GenerationOptions { Temperature = 0, Seed = 1, MaxTokens = 30 });
        var b = model.Generate("A bird", new GenerationOptions { Temperature = 0, Seed = 2, MaxTokens = 30 });
        Assert.Equal(a, b);
    }
}
