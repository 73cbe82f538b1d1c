using ModelSdk.Analyzers;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class StreamingResultDiscardedAnalyzerTests
{
    private static Task VerifyAsync(string body) => AnalyzerHarness.VerifyAsync(new StreamingResultDiscardedAnalyzer(), "MSDK2102", $$"""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using TinyStories;

        public static class App
        {
            public static async Task<string> RunAsync(Stories15M model)
            {
                string text = "";
        {{body}}
                return text;
            }
        }
        """);

    [Fact]
    public Task DiscardedResult_Reports() => VerifyAsync("""
        [|model.GenerateStreamingAsync("Once")|];
        _ = [|model.GenerateStreamingAsync("Once")|];
        [|model.Model.GenerateStreamingAsync("Once")|];
        """);

    [Fact]
    public Task EnumeratedOrStoredResult_DoesNotReport() => VerifyAsync("""
        await foreach (string piece in model.GenerateStreamingAsync("Once"))
            text += piece;
        IAsyncEnumerable<string> later = model.GenerateStreamingAsync("Twice");
        await foreach (string piece in later)
            text += piece;
        model.Generate("Once");
        """);
}
