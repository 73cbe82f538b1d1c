using ModelSdk.Runtime;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Runtime;

/// <summary>The token loop allocates nothing per token: 150 tokens allocate about what 8 do (the text itself aside).</summary>
public sealed class AllocationTests
{
    [Theory]
    [InlineData(0f, 1.0f)]   // greedy
    [InlineData(0.9f, 0.9f)] // softmax + top-p
    [InlineData(0.9f, 1.0f)] // softmax + multinomial
    public void TheTokenLoop_DoesNotAllocatePerToken(float temperature, float topP)
    {
        // A private single-threaded model: the whole loop then runs on this thread, where allocations are counted.
        using var model = LanguageModel.Load(TestModels.Stories15MArtifact, new LoadOptions { Threads = 1 });
        var prompt = model.Tokenize("Once upon a time");
        long Allocated(int maxTokens, out int generated)
        {
            var options = new GenerationOptions { Temperature = temperature, TopP = topP, Seed = 3, MaxTokens = maxTokens };
            var before = GC.GetAllocatedBytesForCurrentThread();
            generated = 0;
            foreach (var _ in model.GenerateTokens(prompt, options)) generated++;
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(150, out _); // warm-up: pooled session, JIT
        // A real per-token allocation shows in every attempt; a one-off (tiering, a timer) on a loaded machine does not.
        var report = "";
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var few = Allocated(8, out var fewTokens);
            var many = Allocated(150, out var manyTokens);
            Assert.True(manyTokens > fewTokens + 50, $"only {manyTokens} tokens");
            var perToken = (double)(many - few) / (manyTokens - fewTokens);
            if (perToken < 16) return;
            report += $"{perToken:F1} bytes per token ({few} bytes for {fewTokens} tokens, {many} for {manyTokens}); ";
        }
        Assert.Fail(report);
    }
}
