using ModelSdk.Analyzers;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class ModelNotDisposedAnalyzerTests
{
    private static Task VerifyAsync(string members) => AnalyzerHarness.VerifyAsync(new ModelNotDisposedAnalyzer(), "MSDK2103", $$"""
        using System.Collections.Generic;
        using TinyStories;

        public sealed class App
        {
            private Stories15M? _model;
            private readonly List<Stories15M> _models = new();

        {{members}}
        }
        """);

    [Fact]
    public Task DiscardedOrOnlyCalledOn_Reports() => VerifyAsync("""
            public string Run(string prompt)
            {
                [|Stories15M.Load()|];
                var text = [|Stories15M.Load()|].Generate(prompt);
                int vocab = [|Stories15M.Load(options: null)|].Model.GetHashCode();
                var model = [|Stories15M.Load()|];
                text += model.Generate(prompt) + model.Decode(model.Tokenize(prompt));
                var unused = [|Stories15M.Load()|];
                return text + vocab;
            }
        """);

    [Fact]
    public Task DisposedOrOwnedElsewhere_DoesNotReport() => VerifyAsync("""
            public string Run(string prompt)
            {
                using var a = Stories15M.Load();
                using (var b = Stories15M.Load()) { b.Generate(prompt); }
                var c = Stories15M.Load();
                c.Generate(prompt);
                c.Dispose();
                var d = Stories15M.Load();
                using (d) { d.Generate(prompt); }
                var e = Stories15M.Load();
                try { e.Generate(prompt); } finally { e?.Dispose(); }
                Stories15M.Load().Dispose();
                _model = Stories15M.Load();
                var f = Stories15M.Load();
                _models.Add(f);
                var g = Stories15M.Load();
                Keep(g);
                return a.Generate(prompt);
            }

            public Stories15M Create() => Stories15M.Load();

            public Stories15M CreateLocal()
            {
                var model = Stories15M.Load();
                return model;
            }

            private static void Keep(Stories15M model) => model.Dispose();
        """);
}
