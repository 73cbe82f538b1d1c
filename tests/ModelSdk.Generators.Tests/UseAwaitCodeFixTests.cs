using ModelSdk.Analyzers;
using ModelSdk.Analyzers.CodeFixes;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

/// <summary>MSDK2104's fix: a blocking wait on a model's stream becomes an await, making the method async when it is not.</summary>
public sealed class UseAwaitCodeFixTests
{
    private static string App(string members) => $$"""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using TinyStories;

        public class App
        {
            private readonly Stories15M _model = Stories15M.Load();
            private readonly object _gate = new();

        {{members}}
        }
        """;

    private static Task VerifyAsync(string before, string? after)
        => CodeFixHarness.VerifyAsync(new BlockingOnGenerationAnalyzer(), new UseAwaitCodeFixProvider(), App(before), after is null ? null : App(after));

    [Fact]
    public Task Result_InAnAsyncMethod_BecomesAwait() => VerifyAsync("""
            public async Task<int> RunAsync(string prompt)
            {
                await Task.Yield();
                List<string> pieces = [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|];
                return pieces.Count;
            }
        """, """
            public async Task<int> RunAsync(string prompt)
            {
                await Task.Yield();
                List<string> pieces = await _model.GenerateStreamingAsync(prompt).ToListAsync();
                return pieces.Count;
            }
        """);

    [Fact]
    public Task Result_FollowedByAMember_IsParenthesized() => VerifyAsync("""
            public async Task<int> CountAsync(string prompt) => [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|].Count;
        """, """
            public async Task<int> CountAsync(string prompt) => (await _model.GenerateStreamingAsync(prompt).ToListAsync()).Count;
        """);

    [Fact]
    public Task Wait_BecomesAnAwaitStatement() => VerifyAsync("""
            public async Task RunAsync(string prompt)
            {
                [|_model.GenerateStreamingAsync(prompt).ToListAsync().AsTask().Wait()|];
            }
        """, """
            public async Task RunAsync(string prompt)
            {
                await _model.GenerateStreamingAsync(prompt).ToListAsync().AsTask();
            }
        """);

    [Fact]
    public Task GetAwaiterGetResult_KeepsConfigureAwait() => VerifyAsync("""
            public async Task<bool> FirstAsync(string prompt)
            {
                await using var pieces = _model.GenerateStreamingAsync(prompt).GetAsyncEnumerator();
                bool any = [|pieces.MoveNextAsync().ConfigureAwait(false).GetAwaiter().GetResult()|];
                return any;
            }
        """, """
            public async Task<bool> FirstAsync(string prompt)
            {
                await using var pieces = _model.GenerateStreamingAsync(prompt).GetAsyncEnumerator();
                bool any = await pieces.MoveNextAsync().ConfigureAwait(false);
                return any;
            }
        """);

    [Fact]
    public Task ToBlockingEnumerable_InAnAsyncLambda_BecomesAwaitForeach() => VerifyAsync("""
            public Func<string, Task> Printer() => async prompt =>
            {
                foreach (string piece in [|_model.GenerateStreamingAsync(prompt).ToBlockingEnumerable()|])
                    Console.Write(piece);
            };
        """, """
            public Func<string, Task> Printer() => async prompt =>
            {
                await foreach (string piece in _model.GenerateStreamingAsync(prompt))
                    Console.Write(piece);
            };
        """);

    [Fact]
    public Task SynchronousMethod_BecomesAsync_ReturningTaskOfItsType_WithTheAsyncSuffix() => VerifyAsync("""
            public string Summarize(string prompt)
            {
                var pieces = [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|];
                return string.Concat(pieces);
            }
        """, """
            public async Task<string> SummarizeAsync(string prompt)
            {
                var pieces = await _model.GenerateStreamingAsync(prompt).ToListAsync();
                return string.Concat(pieces);
            }
        """);

    [Fact]
    public Task SynchronousVoidMethod_ReturnsTask_AndItsCallersFollowTheNewName() => VerifyAsync("""
            public void Print(string prompt)
            {
                [|_model.GenerateStreamingAsync(prompt).ToListAsync().AsTask().Wait()|];
            }

            public Task PrintTwice() => Task.WhenAll(Task.Run(() => Print("a")), Task.Run(() => Print("b")));
        """, """
            public async Task PrintAsync(string prompt)
            {
                await _model.GenerateStreamingAsync(prompt).ToListAsync().AsTask();
            }

            public Task PrintTwice() => Task.WhenAll(Task.Run(() => PrintAsync("a")), Task.Run(() => PrintAsync("b")));
        """);

    [Fact]
    public Task EventHandler_StaysVoid_AndKeepsItsName() => VerifyAsync("""
            public void OnClick(object? sender, EventArgs e)
            {
                Console.WriteLine([|_model.GenerateStreamingAsync("Once").ToListAsync().Result|].Count);
            }

            public void Subscribe(Action<EventHandler> add) => add(OnClick);
        """, """
            public async void OnClick(object? sender, EventArgs e)
            {
                Console.WriteLine((await _model.GenerateStreamingAsync("Once").ToListAsync()).Count);
            }

            public void Subscribe(Action<EventHandler> add) => add(OnClick);
        """);

    [Fact]
    public Task SynchronousLocalFunction_BecomesAsync() => VerifyAsync("""
            public async Task<int> RunAsync(string prompt)
            {
                int Count() => [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|].Count;
                await Task.Yield();
                return 0;
            }
        """, """
            public async Task<int> RunAsync(string prompt)
            {
                async Task<int> CountAsync() => (await _model.GenerateStreamingAsync(prompt).ToListAsync()).Count;
                await Task.Yield();
                return 0;
            }
        """);

    [Fact]
    public Task TopLevelStatements_Await() => CodeFixHarness.VerifyAsync(new BlockingOnGenerationAnalyzer(), new UseAwaitCodeFixProvider(), """
        using System.Linq;
        using TinyStories;

        using var model = Stories15M.Load();
        var pieces = [|model.GenerateStreamingAsync("Once").ToListAsync().Result|];
        System.Console.WriteLine(string.Concat(pieces));
        """, """
        using System.Linq;
        using TinyStories;

        using var model = Stories15M.Load();
        var pieces = await model.GenerateStreamingAsync("Once").ToListAsync();
        System.Console.WriteLine(string.Concat(pieces));
        """, Microsoft.CodeAnalysis.OutputKind.ConsoleApplication);

    [Fact]
    public Task InsideALock_IsNotOffered() => VerifyAsync("""
            public async Task<int> RunAsync(string prompt)
            {
                await Task.Yield();
                lock (_gate) { return [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|].Count; }
            }
        """, null);

    [Fact]
    public Task WaitWithATimeout_IsNotOffered() => VerifyAsync("""
            public async Task<bool> RunAsync(string prompt)
            {
                await Task.Yield();
                return [|_model.GenerateStreamingAsync(prompt).ToListAsync().AsTask().Wait(100)|];
            }
        """, null);

    [Fact]
    public Task InAnOverride_IsNotOffered() => VerifyAsync("""
            public override string ToString() => string.Concat([|_model.GenerateStreamingAsync("Once").ToListAsync().Result|]);
        """, null);

    [Fact]
    public Task InASynchronousLambda_IsNotOffered() => VerifyAsync("""
            public Func<string, int> Counter() => prompt => [|_model.GenerateStreamingAsync(prompt).ToListAsync().Result|].Count;
        """, null);
}
