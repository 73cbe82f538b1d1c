using System.Text;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Import;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Pipeline;

/// <summary>
/// Import -> passes -> artifact. The cache key is a full XxHash128 of everything that determines the
/// output: the artifact format version, the SDK version and compiler build, and the bytes of every input file.
/// </summary>
public static class ModelCompiler
{
    /// <summary>
    /// Validates the inputs and describes the model from the checkpoint header and tokenizer alone, in
    /// milliseconds (design-time builds use it so the IDE shows the generated class before a full build).
    /// </summary>

    /// <summary>Validates the inputs and hashes them; cheap compared to compiling (one sequential read of each file).</summary>
    public static CompilePlan Plan(CompileRequest request)
    {
        var described = Inspect(request);
        InputFile[] inputs = [Hash("checkpoint", request.CheckpointPath), Hash("tokenizer", request.TokenizerPath)];
        var manifest = described with { Provenance = described.Provenance with { Inputs = inputs } };
        var key = new StringBuilder()
            .Append("modelsdk-cache-key/1\n")
            .Append("artifact-format=").Append(ArtifactFormat.Version).Append('\n')
            .Append("sdk=").Append(request.SdkVersion).Append('\n')
            // Deterministic builds give the same compiler the same module id: a changed compiler never reuses old output.
            .Append("compiler=").Append(typeof(ModelCompiler).Assembly.ManifestModule.ModuleVersionId).Append('\n');
        foreach (var input in inputs) key.Append(input.Role).Append('=').Append(input.Xxh128).Append(':').Append(input.Bytes).Append('\n');
        // Passes (none yet) will append their name, version and canonical options here.
        return new CompilePlan(request, manifest, ContentHash.OfBytes(Encoding.UTF8.GetBytes(key.ToString())));
    }

    /// <summary>
    /// Validates the inputs and describes the model from the checkpoint header and tokenizer alone, in
    /// milliseconds (design-time builds use it so the IDE shows the generated class before a full build).
    /// </summary>
    public static ArtifactManifest Inspect(CompileRequest request)
    {
        var config = Llama2CheckpointImporter.ReadConfig(request.CheckpointPath);
        var tokenizer = SentencePieceModelInfo.Read(request.TokenizerPath);
        if (tokenizer.PieceCount != config.VocabSize)
            throw new ModelSdkException(DiagnosticCodes.TokenizerVocabularyMismatch,
                $"The tokenizer has {tokenizer.PieceCount} pieces but the model's vocab_size is {config.VocabSize}.", request.TokenizerPath);

        return new ArtifactManifest
        {
            Name = Path.GetFileNameWithoutExtension(request.CheckpointPath),
            Config = config,
            WeightFormat = TensorType.F32.ToManifestName(),
            Tokenizer = new TokenizerInfo { VocabSize = tokenizer.PieceCount, BosId = tokenizer.BosId, EosId = tokenizer.EosId },
            Provenance = new Provenance { SdkVersion = request.SdkVersion, Inputs = [], Passes = [] },
        };
    }

    /// <summary>Writes the artifact atomically and returns its manifest (with the tensor table).</summary>
    public static ArtifactManifest Compile(CompilePlan plan, string artifactPath)
    {
        using var model = Llama2CheckpointImporter.Import(plan.Request.CheckpointPath);
        var writer = new ArtifactWriter();
        foreach (var tensor in model.Tensors) writer.Add(tensor.Name, tensor.Type, tensor.Shape, tensor.Data);
        var tokenizerBytes = File.ReadAllBytes(plan.Request.TokenizerPath);
        writer.Add(plan.Manifest.Tokenizer.Blob, TensorType.U8, [tokenizerBytes.Length], TensorData.FromBytes(tokenizerBytes));
        writer.Write(artifactPath, plan.Manifest);
        return writer.WithTensorTable(plan.Manifest);
    }

    private static InputFile Hash(string role, string path)
        => new(role, Path.GetFileName(path), FileLength.Of(path), ContentHash.OfFile(path));
}

/// <summary>A validated request with its manifest (no tensor table yet) and cache key.</summary>
public sealed record CompilePlan(CompileRequest Request, ArtifactManifest Manifest, string CacheKey)
{
    public LlamaConfig Config => Manifest.Config;
}
