using ModelSdk.Analyzers;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class BlockingOnGenerationAnalyzerTests
{
    private static Task VerifyAsync(string members) => AnalyzerHarness.VerifyAsync(new BlockingOnGenerationAnalyzer(), "MSDK2104", $$"""
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using TinyStories;

        public sealed class App
        {
            private readonly Stories15M _model = Stories15M.Load();

        {{members}}
        }
        """);

    [Fact]
    public Task BlockingWaits_Report() => VerifyAsync("""
            public string Run(string prompt)
            {
                List<string> pieces = [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|];
                [|_model.GenerateStreamingAsync(prompt).ToListAsync().AsTask().Wait()|];
                var all = [|_model.GenerateStreamingAsync(prompt).ToArrayAsync().GetAwaiter().GetResult()|];
                var stream = _model.GenerateStreamingAsync(prompt);
                var enumerator = stream.GetAsyncEnumerator();
                bool more = [|enumerator.MoveNextAsync().Result|];
                [|enumerator.MoveNextAsync().ConfigureAwait(false).GetAwaiter().GetResult()|];
                return string.Concat(pieces) + all.Length + more;
            }

            public async Task<string> RunAsync(string prompt)
            {
                await Task.Yield();
                return string.Concat([|_model.GenerateStreamingAsync(prompt).ToBlockingEnumerable()|])
                    + string.Concat([|_model.Model.GenerateStreamingAsync(prompt).ToBlockingEnumerable()|]);
            }
        """);

    [Fact]
    public Task AwaitedOrSynchronousUse_DoesNotReport() => VerifyAsync("""
            public async Task<string> RunAsync(string prompt)
            {
                var pieces = await _model.GenerateStreamingAsync(prompt).ToListAsync();
                await foreach (var piece in _model.GenerateStreamingAsync(prompt)) pieces.Add(piece);
                var other = Task.FromResult(1).Result + Task.Run(() => 2).GetAwaiter().GetResult();
                return string.Concat(pieces) + other;
            }

            public string Run(string prompt)
            {
                // Synchronous code consuming a stream: the documented bridge, and no async method to await in.
                var text = string.Concat(_model.GenerateStreamingAsync(prompt).ToBlockingEnumerable());
                Task.Delay(1).Wait();
                return text + _model.Generate(prompt);
            }
        """);
}
