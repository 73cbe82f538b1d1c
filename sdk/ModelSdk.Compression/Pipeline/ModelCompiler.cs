using System.Diagnostics;
using System.Globalization;
using System.Text;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;
using ModelSdk.Tokenizers;

namespace ModelSdk.Compression.Pipeline;

/// <summary>
/// Import -> passes -> (evaluation) -> artifact. The cache key is a full XxHash128 of everything that determines the
/// output: the artifact format version, the SDK version and compiler build, the bytes of every input file (checkpoint,
/// tokenizer, calibration and evaluation texts), and each pass's name, version and canonical options.
/// </summary>
public static class ModelCompiler
{
    /// <summary>Validates the inputs and hashes them; cheap compared to compiling (one sequential read of each file).</summary>
    public static CompilePlan Plan(CompileRequest request)
    {
        var described = Inspect(request);
        var inputs = new List<InputFile> { Hash("checkpoint", request.CheckpointPath), Hash("tokenizer", request.TokenizerPath) };
        if (request.CalibrationPath is { } calibration) inputs.Add(Hash("calibration", calibration));
        if (request.EvaluationPath is { } evaluation) inputs.Add(Hash("evaluation", evaluation));
        var manifest = described with { Provenance = described.Provenance with { Inputs = inputs } };
        var key = new StringBuilder()
            .Append("modelsdk-cache-key/3\n")
            .Append("artifact-format=").Append(ArtifactFormat.Version).Append('\n')
            .Append("sdk=").Append(request.SdkVersion).Append('\n')
            // Deterministic builds give the same compiler the same module id: a changed compiler never reuses old output.
            .Append("compiler=").Append(typeof(ModelCompiler).Assembly.ManifestModule.ModuleVersionId).Append('\n');
        // File names enter too: the artifact's manifest records them, and a shared cache entry must hold exactly these bytes.
        foreach (var input in inputs) key.Append(input.Role).Append('=').Append(input.File).Append(':').Append(input.Xxh128).Append(':').Append(input.Bytes).Append('\n');
        for (var i = 0; i < request.Passes.Count; i++)
        {
            var pass = request.Passes[i];
            key.Append("pass[").Append(i).Append("]=").Append(pass.Name).Append('/').Append(pass.Version)
                // The pass's assembly build: a pass from a changed assembly (e.g. a fix without a version bump) never reuses old output.
                .Append('/').Append(pass.GetType().Assembly.ManifestModule.ModuleVersionId);
            foreach (var (name, value) in pass.Options) key.Append(';').Append(name).Append('=').Append(value);
            key.Append('\n');
        }
        if (request.CalibrationPath is not null) key.Append("calibration-settings=").Append(request.Calibration.CacheKeyText).Append('\n');
        return new CompilePlan(request, manifest, ContentHash.OfBytes(Encoding.UTF8.GetBytes(key.ToString())));
    }

    /// <summary>
    /// Validates the inputs and describes the model from the checkpoint header and tokenizer alone, in
    /// milliseconds (design-time builds use it so the IDE shows the generated class before a full build).
    /// </summary>
    public static ArtifactManifest Inspect(CompileRequest request)
    {
        var config = Llama2CheckpointImporter.ReadConfig(request.CheckpointPath);
        var tokenizer = SentencePieceModel.Read(request.TokenizerPath);
        if (tokenizer.PieceCount != config.VocabSize)
            throw new ModelSdkException(DiagnosticCodes.TokenizerVocabularyMismatch,
                $"The tokenizer has {tokenizer.PieceCount} pieces but the model's vocab_size is {config.VocabSize}.", request.TokenizerPath);
        var output = ValidatePasses(request, config);

        return new ArtifactManifest
        {
            Name = Path.GetFileNameWithoutExtension(request.CheckpointPath),
            Config = output,
            WeightFormat = WeightFormat(request.Passes).ToManifestName(),
            Tokenizer = new TokenizerInfo { VocabSize = tokenizer.PieceCount, BosId = tokenizer.BosId, EosId = tokenizer.EosId },
            Provenance = new Provenance
            {
                SdkVersion = request.SdkVersion,
                Inputs = [],
                Passes = request.Passes.Select(p => new PassRecord(p.Name, p.Version, ToDictionary(p.Options))).ToArray(),
            },
        };
    }

    /// <summary>Writes the artifact atomically and returns its manifest (with the tensor table).</summary>
    public static ArtifactManifest Compile(CompilePlan plan, string artifactPath, CompileOptions? options = null)
    {
        options ??= new CompileOptions();
        var log = options.Log ?? (_ => { });
        var request = plan.Request;
        // The bytes the artifact embeds, checked now by both readers the runtime uses: a tokenizer that would fail at Load fails the build.
        var tokenizerBytes = File.ReadAllBytes(request.TokenizerPath);
        SentencePieceModel.Parse(tokenizerBytes, request.TokenizerPath);
        LlamaTokenizers.Create(tokenizerBytes, request.TokenizerPath);
        var imported = Llama2CheckpointImporter.Import(request.CheckpointPath);
        using var owner = imported;
        var model = WorkingModel.FromImported(imported);
        WorkingModel? reference = null;
        try
        {
            var context = new PassContext(
                request.CalibrationPath is { } calibration
                    ? () => LoadCalibration(calibration, request, plan.Config, log)
                    : null,
                () => reference ??= WorkingModel.FromImported(imported),
                log, options.CancellationToken);
            foreach (var pass in request.Passes)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                log($"{pass.Name}: running ({string.Join(", ", pass.Options.Select(o => $"{o.Key}={o.Value}"))})");
                pass.Run(model, context);
                log($"{pass.Name}: done in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
            }
            LogFactoredStorage(model, request.Passes, context, log);
            var manifest = WithResults(plan.Manifest, request.Passes, context);
            var actual = model[TensorNames.Wq(0)].Type.ToManifestName();
            if (actual != manifest.WeightFormat)
                throw new InvalidOperationException($"The passes announced weight format {manifest.WeightFormat} but produced {actual}.");
            if (model.Config != manifest.Config)
                throw new InvalidOperationException($"The passes announced a model of {manifest.Config.Layers} blocks but produced {model.Config.Layers}.");

            if (request.EvaluationPath is { } evaluationPath && options.Evaluate is { } evaluate)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                var directory = Path.GetDirectoryName(Path.GetFullPath(artifactPath))!;
                var compressedTemp = Path.Combine(directory, $".{Path.GetFileName(artifactPath)}.{Guid.NewGuid():N}.eval.msdk");
                var referenceTemp = Path.Combine(directory, $".{Path.GetFileName(artifactPath)}.{Guid.NewGuid():N}.reference.msdk");
                try
                {
                    Writer(model, manifest.Tokenizer.Blob, tokenizerBytes).Write(compressedTemp, manifest);
                    // The reference is the import as it is: its shape, not the one passes such as drop-layers gave the result.
                    var fp32 = manifest with { Config = imported.Config, WeightFormat = TensorType.F32.ToManifestName(), Provenance = manifest.Provenance with { Passes = [] } };
                    Writer(WorkingModel.FromImported(imported), manifest.Tokenizer.Blob, tokenizerBytes).Write(referenceTemp, fp32);
                    manifest = manifest with { Metrics = evaluate(compressedTemp, referenceTemp, evaluationPath) };
                }
                finally
                {
                    TryDelete(compressedTemp);
                    TryDelete(referenceTemp);
                }
            }

            var writer = Writer(model, manifest.Tokenizer.Blob, tokenizerBytes);
            writer.Write(artifactPath, manifest);
            return writer.WithTensorTable(manifest);
        }
        finally
        {
            model.Dispose();
            reference?.Dispose();
        }
    }

    /// <summary>The pass records with what each pass reported about its run (<see cref="PassContext.RecordResult"/>).</summary>
    private static ArtifactManifest WithResults(ArtifactManifest manifest, IReadOnlyList<IModelPass> passes, PassContext context)
    {
        var records = manifest.Provenance.Passes.Select((record, i) => context.ResultsOf(passes[i]) is { } results ? record with { Results = results } : record);
        return manifest with { Provenance = manifest.Provenance with { Passes = records.ToArray() } };
    }

    /// <summary>
    /// Says when a pass after low-rank stored factored matrices in its own format (e.g. quantized the dense product), so the
    /// artifact does not hold the factors the user may expect.
    /// </summary>
    private static void LogFactoredStorage(WorkingModel model, IReadOnlyList<IModelPass> passes, PassContext context, Action<string> log)
    {
        if (passes.OfType<Passes.Structural.LowRankPass>().LastOrDefault() is not { } lowRank || context.ResultsOf(lowRank)?["ranks"] is not { } ranks) return;
        var made = ranks.Split(',').Length;
        if (!lowRank.Factored) return;
        var kept = model.TensorNames.Count(name => model[name] is { LowRank: not null, StoresFactors: true });
        if (kept < made)
            log($"{lowRank.Name}: {made - kept} of {made} factored matrices were stored dense by a later pass (as its format), {kept} as factors");
    }

    /// <summary>The manifest's weightFormat: what the last pass that stores matrices made of them (f32 without passes).</summary>
    public static TensorType WeightFormat(IReadOnlyList<IModelPass> passes)
        => passes.LastOrDefault(p => p.MatrixType is not null)?.MatrixType ?? TensorType.F32;

    /// <summary>Validates each pass against the shape the passes before it produce; returns the final shape.</summary>
    private static LlamaConfig ValidatePasses(CompileRequest request, LlamaConfig config)
    {
        foreach (var pass in request.Passes)
        {
            pass.Validate(config);
            config = pass.OutputConfig(config);
        }
        var needsCalibration = request.Passes.FirstOrDefault(p => p.NeedsCalibration);
        if (request.CalibrationPath is { } calibration)
        {
            if (needsCalibration is null)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                    $"CalibrationData is set but {(request.Passes.Count == 0 ? "no compression is" : $"{string.Join(", ", request.Passes.Select(p => p.Name))} does not use calibration data")}: remove it.",
                    calibration);
            CheckText(calibration, DiagnosticCodes.CalibrationDataInvalid, "calibration");
        }
        else if (needsCalibration is not null)
        {
            throw new ModelSdkException(DiagnosticCodes.CalibrationDataInvalid,
                $"{needsCalibration.Name} needs calibration data: set CalibrationData (or --calibration) to a text file.");
        }
        if (request.EvaluationPath is { } evaluation) CheckText(evaluation, DiagnosticCodes.EvaluationDataInvalid, "evaluation");
        return config;
    }

    private static void CheckText(string path, DiagnosticCode code, string what)
    {
        if (!File.Exists(path)) throw new ModelSdkException(code, $"The {what} text does not exist.", path);
        if (FileLength.Of(path) == 0) throw new ModelSdkException(code, $"The {what} text is empty.", path);
    }

    private static CalibrationText LoadCalibration(string path, CompileRequest request, LlamaConfig config, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var text = CalibrationText.Load(path, request.TokenizerPath, request.Calibration, config.ContextLength);
        log($"calibration: {text.Sequences.Count} sequences, {text.TokenCount} tokens from {Path.GetFileName(path)} " +
            $"({clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        return text;
    }

    private static ArtifactWriter Writer(WorkingModel model, string tokenizerBlob, byte[] tokenizerBytes)
    {
        var writer = new ArtifactWriter();
        foreach (var name in model.TensorNames)
        {
            var tensor = model[name];
            if (tensor is { LowRank: { } factors, StoresFactors: true })
            {
                // Factored storage: the runtime computes B·(A·x), rank · (rows + cols) values instead of rows · cols.
                writer.Add(TensorNames.LowRankA(name), TensorType.F32, [factors.Rank, factors.Cols], TensorData.FromFloats(factors.A));
                writer.Add(TensorNames.LowRankB(name), TensorType.F32, [factors.Rows, factors.Rank], TensorData.FromFloats(factors.B));
                continue;
            }
            writer.Add(tensor.Name, tensor.Type, tensor.Shape, tensor.Data);
        }
        writer.Add(tokenizerBlob, TensorType.U8, [tokenizerBytes.Length], TensorData.FromBytes(tokenizerBytes));
        return writer;
    }

    private static IReadOnlyDictionary<string, string> ToDictionary(IReadOnlyList<KeyValuePair<string, string>> options)
    {
        var dictionary = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options) dictionary[key] = value;
        return dictionary;
    }

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static InputFile Hash(string role, string path)
        => new(role, Path.GetFileName(path), FileLength.Of(path), ContentHash.OfFile(path));
}

/// <summary>A validated request with its manifest (no tensor table yet) and cache key.</summary>
public sealed record CompilePlan(CompileRequest Request, ArtifactManifest Manifest, string CacheKey)
{
    public LlamaConfig Config => Manifest.Config;
}
