using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>Runs <see cref="ModelClassGenerator"/> the way the compiler does, with step tracking on.</summary>
internal static class GeneratorHarness
{
    public static GeneratorDriver CreateDriver(params AdditionalText[] manifests) =>
        CSharpGeneratorDriver.Create(
            [new ModelClassGenerator().AsSourceGenerator()],
            manifests,
            TestCompilation.ParseOptions,
            optionsProvider: null,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>One run over a compilation with the runtime stub; returns the driver's result and the updated compilation.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(AdditionalText[] manifests, params string[] sources)
    {
        GeneratorDriver driver = CreateDriver(manifests)
            .RunGeneratorsAndUpdateCompilation(TestCompilation.Create(withRuntimeStub: true, sources), out Compilation output, out _);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return (result, output);
    }

    public static (GeneratorRunResult Result, Compilation Output) Run(string manifestJson, string path = Manifests.Stories15MPath) =>
        Run([new InMemoryAdditionalText(path, manifestJson)]);
}
