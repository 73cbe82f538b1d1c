namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>
/// The runtime API the generated class calls (the contract of sdk/ModelSdk.Runtime), declared as source so the
/// generated code is compiled against the contract without depending on the runtime project.
/// </summary>
internal static class RuntimeContractStub
{
    public const string Source = """
        #nullable enable
        namespace ModelSdk
        {
            public sealed class GenerationOptions
            {
                public int MaxTokens { get; set; }
                public float Temperature { get; set; }
                public float TopP { get; set; }
                public ulong? Seed { get; set; }
                public global::System.Collections.Generic.IReadOnlyList<string> StopSequences { get; set; } = new string[0];
            }

            public sealed class LoadOptions
            {
                public int? Threads { get; set; }
            }
        }

        namespace ModelSdk.Runtime
        {
            using System;
            using System.Collections.Generic;
            using System.Threading;

            public sealed class LanguageModel : IDisposable
            {
                public static LanguageModel Load(string artifactPath, ModelSdk.LoadOptions? options = null) => throw new NotImplementedException();
                public void EnsureShape(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int contextLength, string weightFormat) { }
                public string Generate(string prompt, GenerationOptions? options = null, CancellationToken ct = default) => "";
                public IAsyncEnumerable<string> GenerateStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken ct = default) => throw new NotImplementedException();
                public int[] Tokenize(string text, bool addBos = true) => new int[0];
                public string Decode(ReadOnlySpan<int> tokens) => "";
                public float[] GetNextTokenLogits(ReadOnlySpan<int> tokens) => new float[0];
                public void Dispose() { }
            }
        }
        """;
}
