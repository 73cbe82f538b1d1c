using Microsoft.CodeAnalysis;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

/// <summary>The emitted class compiles against the runtime contract, warning-free, and is usable as documented.</summary>
public sealed class GeneratedCodeCompilesTests
{
    [Fact]
    public void NamespacedClass_CompilesWithoutErrorsOrWarnings()
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(Manifests.Stories15M());

        AssertCleanCompile(result, output);
        INamedTypeSymbol type = output.GetTypeByMetadataName("TinyStories.Stories15M")!;
        Assert.NotNull(type);
        Assert.True(type.IsSealed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void MissingOrEmptyNamespace_EmitsIntoGlobalNamespace(string? ns)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(Manifests.Stories15M(ns: ns));

        Assert.Equal("Stories15M.g.cs", Assert.Single(result.GeneratedSources).HintName);
        AssertCleanCompile(result, output);
        INamedTypeSymbol type = output.GetTypeByMetadataName("Stories15M")!;
        Assert.NotNull(type);
        Assert.True(type.ContainingNamespace.IsGlobalNamespace);
    }

    [Fact]
    public void ShapeConstants_HaveTheManifestValues()
    {
        (_, Compilation output) = GeneratorHarness.Run(Manifests.Stories15M());
        INamedTypeSymbol type = output.GetTypeByMetadataName("TinyStories.Stories15M")!;

        object? Constant(string name) => type.GetMembers(name).OfType<IFieldSymbol>().Single().ConstantValue;

        Assert.Equal("stories15M.msdk", Constant("ArtifactFileName"));
        Assert.Equal("stories15M", Constant("ModelName"));
        Assert.Equal("f32", Constant("WeightFormat"));
        Assert.Equal(288, Constant("Dim"));
        Assert.Equal(768, Constant("HiddenDim"));
        Assert.Equal(6, Constant("Layers"));
        Assert.Equal(6, Constant("Heads"));
        Assert.Equal(6, Constant("KvHeads"));
        Assert.Equal(48, Constant("HeadSize"));
        Assert.Equal(32000, Constant("VocabSize"));
        Assert.Equal(256, Constant("ContextLength"));
        Assert.Equal(1, Constant("BosTokenId"));
        Assert.Equal(2, Constant("EosTokenId"));
    }

    [Fact]
    public void UserCode_UsesEveryMember_AndExtendsThePartialClass()
    {
        const string user = """
            using System.Threading.Tasks;
            using TinyStories;

            namespace TinyStories
            {
                public sealed partial class Stories15M
                {
                    public int KvDim => HeadSize * KvHeads;
                }
            }

            public static class App
            {
                public static async Task<string> RunAsync()
                {
                    using Stories15M model = Stories15M.Load(options: new ModelSdk.LoadOptions { Threads = 2 });
                    string text = model.Generate("Once", new ModelSdk.GenerationOptions { MaxTokens = 5, Seed = 1 });
                    await foreach (string piece in model.GenerateStreamingAsync("Once"))
                        text += piece;
                    int[] tokens = model.Tokenize(text, addBos: false);
                    float[] logits = model.GetNextTokenLogits(tokens);
                    const int size = Stories15M.VocabSize * Stories15M.ContextLength;
                    return model.Decode(tokens) + logits.Length + size + model.KvDim + model.Model.GetHashCode();
                }
            }
            """;
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(
            [new InMemoryAdditionalText(Manifests.Stories15MPath, Manifests.Stories15M())], user);

        AssertCleanCompile(result, output);
    }

    [Fact]
    public void UserTypesNamedLikeSystemOrModelSdk_DoNotBreakTheGeneratedCode()
    {
        // global:: qualification: these would capture unqualified System.* / ModelSdk.* references.
        const string user = """
            namespace TinyStories
            {
                internal sealed class System { }
                internal sealed class ModelSdk { }
                internal sealed class LanguageModel { }
            }
            """;
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(
            [new InMemoryAdditionalText(Manifests.Stories15MPath, Manifests.Stories15M())], user);

        AssertCleanCompile(result, output);
    }

    [Fact]
    public void ManifestStringsWithCSharpAndXmlSyntax_AreEscaped()
    {
        // A hostile or odd model name must not break out of a string literal or a doc comment.
        string json = Manifests.Stories15M()
            .Replace("\"name\": \"stories15M\"", "\"name\": \"a\\\"b</summary>\\u2028c\\\\d\\n\"")
            .Replace("\"file\": \"stories15M.bin\"", "\"file\": \"x&y<z>.bin\"");
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(json);

        AssertCleanCompile(result, output);
        INamedTypeSymbol type = output.GetTypeByMetadataName("TinyStories.Stories15M")!;
        Assert.Equal("a\"b</summary>\u2028c\\d\n", type.GetMembers("ModelName").OfType<IFieldSymbol>().Single().ConstantValue);
    }

    /// <summary>No errors anywhere, and no warnings (missing XML docs included) in the generated file.</summary>
    private static void AssertCleanCompile(GeneratorRunResult result, Compilation output)
    {
        Assert.Empty(result.Diagnostics);
        var generatedTree = result.GeneratedSources.Single().SyntaxTree;
        var problems = output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error ||
                        (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree == generatedTree))
            .ToList();
        Assert.True(problems.Count == 0, TestCompilation.Describe(problems));
    }
}
