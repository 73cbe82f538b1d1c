using System.Text.Json.Serialization;
using ModelSdk.Architecture;
using ModelSdk.Tensors;

namespace ModelSdk.Artifacts;

/// <summary>
/// The JSON manifest of a compiled model. The artifact embeds it with its tensor table; the build also
/// writes it, without the tensor table and with the C# names, as the small <c>.msdk.json</c> file that the
/// source generator reads (so the IDE never touches the weights).
/// </summary>
public sealed record ArtifactManifest
{
    public const string CurrentSchema = "modelsdk.manifest/1";

    public string Schema { get; init; } = CurrentSchema;

    /// <summary>The model's name: the checkpoint's file name without extension.</summary>
    public required string Name { get; init; }

    public string Architecture { get; init; } = "llama";

    public required LlamaConfig Config { get; init; }

    /// <summary>The storage format of the matrix weights (e.g. "f32").</summary>
    public required string WeightFormat { get; init; }

    public required TokenizerInfo Tokenizer { get; init; }

    public required Provenance Provenance { get; init; }

    /// <summary>Quality of the compressed model measured by the build (absent when no evaluation text was given).</summary>
    public QualityMetrics? Metrics { get; init; }

    /// <summary>Tensor table; present in the artifact, absent from the generator's manifest.</summary>
    public IReadOnlyList<TensorEntry>? Tensors { get; init; }

    /// <summary>Generated class name; only in the generator's manifest.</summary>
    public string? ClassName { get; init; }

    /// <summary>Namespace of the generated class; only in the generator's manifest.</summary>
    public string? Namespace { get; init; }

    /// <summary>File name of the artifact next to the application; only in the generator's manifest.</summary>
    public string? Artifact { get; init; }
}

public sealed record TokenizerInfo
{
    public string Kind { get; init; } = "sentencepiece";
    public required int VocabSize { get; init; }
    public int BosId { get; init; } = 1;
    public int EosId { get; init; } = 2;

    /// <summary>Name of the tensor-table entry that holds the tokenizer file's bytes.</summary>
    public string Blob { get; init; } = "tokenizer.model";
}

/// <summary>Where an artifact came from: hashes and versions only, never paths or timestamps, so builds are reproducible.</summary>
public sealed record Provenance
{
    public required string SdkVersion { get; init; }
    public required IReadOnlyList<InputFile> Inputs { get; init; }
    public required IReadOnlyList<PassRecord> Passes { get; init; }
}

/// <summary>
/// The compressed model against the uncompressed one on an evaluation text (llama2.c's protocol, see the runtime's
/// TextEvaluator): perplexity of both, the relative increase, mean KL(P_reference ‖ P_model) per position and top-1 agreement.
/// </summary>
public sealed record QualityMetrics
{
    /// <summary>File name of the evaluation text (its hash is the provenance input with role "evaluation").</summary>
    public required string Text { get; init; }
    public required int Tokens { get; init; }
    public required double Perplexity { get; init; }
    public required double ReferencePerplexity { get; init; }

    /// <summary>Perplexity / ReferencePerplexity − 1 (0.01 = 1%).</summary>
    public required double PerplexityIncrease { get; init; }
    public required double KlDivergence { get; init; }
    public required double Top1Agreement { get; init; }
}

public sealed record InputFile(string Role, string File, long Bytes, string Xxh128);

public sealed record PassRecord(string Name, int Version, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>What the pass reported about its run (e.g. a training pass's steps and final loss); null when nothing.</summary>
    public IReadOnlyDictionary<string, string>? Results { get; init; }
}

// RespectNullableAnnotations: a JSON null in a non-nullable member ("config": null) is a JsonException, not a
// manifest that passes validation and fails later with a NullReferenceException.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ArtifactManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;

/// <summary>Reads and writes manifests as the UTF-8 JSON that artifacts and the generator use.</summary>
public static class ManifestJson
{
    public static byte[] Serialize(ArtifactManifest manifest)
        => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.ArtifactManifest);

    public static ArtifactManifest? Deserialize(ReadOnlySpan<byte> json)
        => System.Text.Json.JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ArtifactManifest);
}
