using ModelSdk.Analyzers;
using ModelSdk.Analyzers.CodeFixes;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class CodeFixTests
{
    private static string App(string body) => $$"""
        using System.Collections.Generic;
        using TinyStories;

        public static class App
        {
            public static void Run(List<string> prompts, string path)
            {
        {{body}}
            }
        }
        """;

    [Fact]
    public Task AddUsing_DeclaresTheModelWithUsing() => CodeFixHarness.VerifyAsync(new ModelNotDisposedAnalyzer(), new AddUsingCodeFixProvider(),
        App("""
                    // the model for this run
                    var model = [|Stories15M.Load(path)|];
                    System.Console.WriteLine(model.Generate("Once"));
            """),
        App("""
                    // the model for this run
                    using var model = Stories15M.Load(path);
                    System.Console.WriteLine(model.Generate("Once"));
            """));

    [Fact]
    public Task AddUsing_IsNotOfferedForACallOnTheLoadedModel() => CodeFixHarness.VerifyAsync(new ModelNotDisposedAnalyzer(), new AddUsingCodeFixProvider(),
        App("""
                    System.Console.WriteLine([|Stories15M.Load()|].Generate("Once"));
            """),
        null);

    [Fact]
    public Task Hoist_MovesTheLoadBeforeTheLoop() => CodeFixHarness.VerifyAsync(new ModelLoadInLoopAnalyzer(), new HoistLoadCodeFixProvider(),
        App("""
                    foreach (string prompt in prompts)
                    {
                        using var model = [|Stories15M.Load(path)|];
                        System.Console.WriteLine(model.Generate(prompt));
                    }
            """),
        App("""
                    using var model = Stories15M.Load(path);
                    foreach (string prompt in prompts)
                    {
                        System.Console.WriteLine(model.Generate(prompt));
                    }
            """));

    [Fact]
    public Task Hoist_IsNotOfferedWhenTheLoadReadsTheLoopVariable() => CodeFixHarness.VerifyAsync(new ModelLoadInLoopAnalyzer(), new HoistLoadCodeFixProvider(),
        App("""
                    foreach (string artifact in prompts)
                    {
                        using var model = [|Stories15M.Load(artifact)|];
                        System.Console.WriteLine(model.Generate("Once"));
                    }
            """),
        null);

    [Fact]
    public Task Hoist_IsNotOfferedWhenTheNameIsTaken() => CodeFixHarness.VerifyAsync(new ModelLoadInLoopAnalyzer(), new HoistLoadCodeFixProvider(),
        App("""
                    for (int i = 0; i < 2; i++)
                    {
                        using var model = [|Stories15M.Load()|];
                        System.Console.WriteLine(model.Generate("Once"));
                    }
                    var model2 = 1;
                    { var model = model2; }
            """),
        null);
}
