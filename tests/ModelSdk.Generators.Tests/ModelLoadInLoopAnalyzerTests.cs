using ModelSdk.Analyzers;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class ModelLoadInLoopAnalyzerTests
{
    private static Task VerifyAsync(string body) => AnalyzerHarness.VerifyAsync(new ModelLoadInLoopAnalyzer(), "MSDK2101", $$"""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using TinyStories;

        public static class App
        {
            public static async Task RunAsync(List<string> prompts, IAsyncEnumerable<string> stream)
            {
        {{body}}
                await Task.Yield();
            }
        }
        """);

    [Fact]
    public Task LoadInForBody_Reports() => VerifyAsync("""
        for (int i = 0; i < 3; i++)
        {
            using var model = [|Stories15M.Load()|];
        }
        """);

    [Fact]
    public Task LoadInForEachBody_Reports() => VerifyAsync("""
        foreach (string prompt in prompts)
            [|Stories15M.Load(prompt)|].Dispose();
        """);

    [Fact]
    public Task LoadInAwaitForEachWhileAndDo_Reports() => VerifyAsync("""
        await foreach (string piece in stream) { [|Stories15M.Load()|].Dispose(); }
        while (prompts.Count > 0) { [|Stories15M.Load()|].Dispose(); prompts.Clear(); }
        do { [|TinyStories.Stories15M.Load(options: null)|].Dispose(); } while (false);
        """);

    [Fact]
    public Task LoadInParallelLambdas_Reports() => VerifyAsync("""
        Parallel.For(0, 4, i => { using var model = [|Stories15M.Load()|]; });
        Parallel.ForEach(prompts, prompt => [|Stories15M.Load()|].Generate(prompt));
        await Parallel.ForEachAsync(prompts, async (prompt, ct) => { await Task.Yield(); [|Stories15M.Load()|].Dispose(); });
        """);

    [Fact]
    public Task LoadOutsideLoops_DoesNotReport() => VerifyAsync("""
        using var model = Stories15M.Load();
        foreach (string prompt in prompts)
            model.Generate(prompt);
        System.Threading.Tasks.Task.Run(() => Stories15M.Load().Dispose()).Wait();
        """);

    [Fact]
    public Task LoadInPartsOfALoopThatRunOnce_DoesNotReport() => VerifyAsync("""
        for (var model = Stories15M.Load(); model != null; model = null) { model.Dispose(); }
        foreach (int token in Stories15M.Load().Tokenize("x")) { }
        """);

    [Fact]
    public Task LoadOnOtherTypesInLoops_DoesNotReport() => AnalyzerHarness.VerifyAsync(new ModelLoadInLoopAnalyzer(), "MSDK2101", """
        [System.CodeDom.Compiler.GeneratedCode("SomeOtherTool", "1.0")]
        public sealed class Settings { public static Settings Load() => new Settings(); }

        public static class App
        {
            public static void Run()
            {
                for (int i = 0; i < 3; i++)
                {
                    Settings.Load();
                    ModelSdk.Runtime.LanguageModel.Load("x.msdk").Dispose();
                    System.Reflection.Assembly.Load("x");
                }
            }
        }
        """);
}
