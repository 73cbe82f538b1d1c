namespace ModelSdk.Generators.Tests.Infrastructure;

/// <summary>Manifests as the build task writes them (camelCase, indented, STJ number formatting).</summary>
internal static class Manifests
{
    public const string Stories15MPath = "obj/Debug/net10.0/modelsdk/stories15M.msdk.json";

    public static string Stories15M(string? ns = "TinyStories", string className = "Stories15M", string schema = "modelsdk.manifest/1")
    {
        string namespaceLine = ns is null ? "" : $"\n  \"namespace\": \"{ns}\",";
        return $$"""
            {
              "schema": "{{schema}}",
              "name": "stories15M",
              "architecture": "llama",
              "config": {
                "dim": 288,
                "hiddenDim": 768,
                "layers": 6,
                "heads": 6,
                "kvHeads": 6,
                "vocabSize": 32000,
                "contextLength": 256,
                "sharedClassifier": true,
                "normEps": 1E-05,
                "ropeTheta": 10000
              },
              "weightFormat": "f32",
              "tokenizer": {
                "kind": "sentencepiece",
                "vocabSize": 32000,
                "bosId": 1,
                "eosId": 2,
                "blob": "tokenizer.model"
              },
              "provenance": {
                "sdkVersion": "0.1.0",
                "inputs": [
                  {
                    "role": "checkpoint",
                    "file": "stories15M.bin",
                    "bytes": 60816028,
                    "xxh128": "0123456789abcdef0123456789abcdef"
                  },
                  {
                    "role": "tokenizer",
                    "file": "tokenizer.model",
                    "bytes": 499723,
                    "xxh128": "fedcba9876543210fedcba9876543210"
                  }
                ],
                "passes": []
              },
              "className": "{{className}}",{{namespaceLine}}
              "artifact": "stories15M.msdk"
            }
            """;
    }
}
