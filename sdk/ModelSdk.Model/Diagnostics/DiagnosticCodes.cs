namespace ModelSdk.Diagnostics;

/// <summary>
/// Every build and runtime diagnostic ModelSdk reports, in one table. Ids are stable: never reuse or
/// renumber one. MSDK1xxx: model inputs (checkpoints, tokenizers, item metadata), MSDK15xx: the source
/// generator (generators/ModelSdk.Generators/DiagnosticDescriptors.cs); MSDK20xx: artifacts and loading,
/// MSDK21xx: analyzers (analyzers/ModelSdk.Analyzers/DiagnosticDescriptors.cs); MSDK3xxx: generation.
/// </summary>
public static class DiagnosticCodes
{
    public static readonly DiagnosticCode ModelFileNotFound = new(
        "MSDK1001", "Model file not found",
        "Check the Include path of the Model item; relative paths are resolved against the project folder.");

    public static readonly DiagnosticCode CheckpointHeaderInvalid = new(
        "MSDK1002", "Checkpoint header is not a llama2.c checkpoint",
        "Use a llama2.c fp32 checkpoint (legacy version 0: 7 int32 header fields followed by float32 weights).");

    public static readonly DiagnosticCode CheckpointSizeMismatch = new(
        "MSDK1003", "Checkpoint size does not match its header",
        "The file is truncated or corrupt, or not a llama2.c checkpoint: download or export it again.");

    public static readonly DiagnosticCode TokenizerMissing = new(
        "MSDK1004", "Tokenizer not specified or not found",
        "Set the Tokenizer metadata of the Model item to a SentencePiece tokenizer.model file, relative to the project folder.");

    public static readonly DiagnosticCode TokenizerInvalid = new(
        "MSDK1005", "Tokenizer file is not a valid SentencePiece model",
        "Point Tokenizer at the SentencePiece 'tokenizer.model' that belongs to the checkpoint.");

    public static readonly DiagnosticCode UnknownMetadata = new(
        "MSDK1006", "Unknown Model item metadata",
        "Remove or rename the metadata; see the README for the metadata a Model item accepts.");

    public static readonly DiagnosticCode InvalidClassName = new(
        "MSDK1007", "Invalid generated class or namespace name",
        "Set ClassName (and Namespace) to valid C# identifiers, e.g. ClassName=\"Stories15M\".");

    public static readonly DiagnosticCode TokenizerVocabularyMismatch = new(
        "MSDK1008", "Tokenizer vocabulary does not match the model",
        "Use the tokenizer the checkpoint was trained with: its piece count must equal the model's vocab_size.");

    public static readonly DiagnosticCode DuplicateClassName = new(
        "MSDK1009", "Two Model items generate the same class",
        "Give each Model item a distinct ClassName: the class name also names the artifact copied next to the app.");

    public static readonly DiagnosticCode ModelFileIo = new(
        "MSDK1010", "A model input or output could not be read or written",
        "Check that the file is readable, the output folder writable and the disk not full, then build again.");

    public static readonly DiagnosticCode InternalError = new(
        "MSDK1099", "ModelSdk failed unexpectedly",
        "This is a bug in ModelSdk: please report it with the build log (detailed verbosity shows the stack trace).");

    public static readonly DiagnosticCode ArtifactNotFound = new(
        "MSDK2001", "Model artifact not found",
        "Build the project so the .msdk artifact is copied next to the application, or pass its path to Load(path).");

    public static readonly DiagnosticCode ArtifactCorrupt = new(
        "MSDK2002", "Model artifact is corrupt, truncated or tampered with",
        "Rebuild the project to recreate the .msdk artifact; do not edit it by hand.");

    public static readonly DiagnosticCode ArtifactVersionUnsupported = new(
        "MSDK2003", "Model artifact was written by an incompatible ModelSdk",
        "Rebuild the project with the ModelSdk version the application references.");

    public static readonly DiagnosticCode ArtifactShapeMismatch = new(
        "MSDK2004", "Model artifact does not match the generated class",
        "The artifact comes from a different Model item or build: rebuild the project, or load the artifact with the class generated for it.");

    public static readonly DiagnosticCode PromptTooLong = new(
        "MSDK3001", "Prompt does not fit the model's context",
        "Shorten the prompt: prompt tokens (BOS included) must be fewer than the model's context length.");

    public static readonly DiagnosticCode InvalidGenerationOptions = new(
        "MSDK3002", "Invalid generation options",
        "Use Temperature >= 0, 0 < TopP <= 1 and MaxTokens >= 0.");

    public static readonly DiagnosticCode UnknownCompressionPass = new(
        "MSDK1011", "Unknown compression pass",
        "Set Quantize (or --quantize) to one of the values listed in the message; see the README for what each one does.");

    public static readonly DiagnosticCode InvalidCompressionOption = new(
        "MSDK1012", "Invalid compression option",
        "Use one of the values listed in the message, or remove the option to get its default; see the README's Model item table.");

    public static readonly DiagnosticCode GroupSizeDoesNotDivide = new(
        "MSDK1013", "Quantization groups do not fit a matrix dimension",
        "Group-wise quantization needs the model's dim and hidden_dim to be multiples of 32; quantize this model with f16 instead.");

    public static readonly DiagnosticCode CalibrationDataInvalid = new(
        "MSDK1014", "Calibration data missing, empty or unreadable",
        "Point CalibrationData at a non-empty UTF-8 text file (documents separated by <|endoftext|> lines), relative to the project.");

    public static readonly DiagnosticCode EvaluationDataInvalid = new(
        "MSDK1015", "Evaluation data missing, empty or unreadable",
        "Point EvaluationData at a non-empty UTF-8 text file (documents separated by <|endoftext|> lines), relative to the project; quality gates need it.");

    public static readonly DiagnosticCode QualityGateFailed = new(
        "MSDK1016", "Compressed model fails a quality gate",
        "Use a gentler compression (e.g. rtn-int8, a smaller GroupSize, asymmetric int4, gptq-int4), or relax MaxPerplexityIncrease / MaxKLDivergence.");

    public static readonly DiagnosticCode InvalidSparsity = new(
        "MSDK1020", "Invalid sparsity",
        "Set Sparsity (or --sparsity) to a fraction of zeros strictly between 0 and 1 (\"0.5\", \"50%\") or to N:M with 0 < N < M (\"2:4\", \"4:8\").");

    public static readonly DiagnosticCode SparsityGroupDoesNotDivide = new(
        "MSDK1021", "N:M sparsity groups do not fit a matrix row",
        "Use an N:M pattern whose M divides every pruned row length (dim, and hidden_dim for w2), e.g. 2:4; or leave the misfitting matrices out with PruneLayers.");

    public static readonly DiagnosticCode UnknownPruneLayer = new(
        "MSDK1022", "PruneLayers names a matrix the model does not have",
        "List in PruneLayers only wq, wk, wv, wo, w1, w2, w3, layers.N with N below the model's block count, or tensor names such as layers.0.attention.wq.");

    public static readonly DiagnosticCode InvalidCacheLimit = new(
        "MSDK1030", "Invalid model cache size or age limit",
        "Write ModelSdkCacheMaxSize / --max-size as bytes or with KB, MB, GB or TB (e.g. 10GB), and ModelSdkCacheMaxAge / --max-age as a number with d, h, m or s (e.g. 30d).");

    public static readonly DiagnosticCode TorchSharpLoaderNotPatched = new(
        "MSDK1050", "TorchSharp's native library was left unpatched",
        "The build found that libLibTorchSharp.so really uses GLIBCXX_3.4.32 (or could not read it): install a libstdc++ that provides it (GCC 13 or newer), or set ModelSdkPatchTorchSharpLoader=false to silence the check.");

    public static readonly DiagnosticCode DistillationStudentMismatch = new(
        "MSDK1051", "The student does not fit the teacher",
        "Distillation trains a student of the teacher's width, heads and vocabulary (its block count may be smaller, as drop-layers makes it): put distill after passes that keep those.");

    public static readonly DiagnosticCode InvalidDropLayers = new(
        "MSDK1052", "DropLayers does not fit the model",
        "Drop fewer blocks than the model has (DropLayers=\"1\" drops the most redundant one), or list existing blocks by index (DropLayers=\"layers.3,layers.4\", 0 to the block count minus one), each once.");

    public static readonly DiagnosticCode InvalidLowRankTarget = new(
        "MSDK1053", "Low-rank factorization does not fit the model",
        "List in LowRankLayers only wq, wk, wv, wo, w1, w2, w3, layers.N or tensor names of blocks the model has, and choose a LowRankRatio or LowRankEnergy that keeps at least rank 1.");

    public static readonly DiagnosticCode DistillationPackageMissing = new(
        "MSDK1060", "Distill is set but the ModelSdk.Distillation package is not referenced",
        "Add the ModelSdk.Distillation package (the same version as ModelSdk.Sdk) with a PackageReference, or remove Distill from the Model item.");

    public static readonly DiagnosticCode DistillationPluginNotLoaded = new(
        "MSDK1061", "The distillation plug-in could not be loaded",
        "Restore again (dotnet restore) so ModelSdk.Distillation, TorchSharp and the LibTorch package of this OS are in the NuGet package folder, and use the ModelSdk.Distillation version that matches ModelSdk.Sdk.");

    public static readonly DiagnosticCode CudaDeviceNotAvailable = new(
        "MSDK2005", "CUDA device not available",
        "Install an NVIDIA GPU driver and check that nvidia-smi lists a GPU, or load with Device = ModelDevice.Auto or ModelDevice.Cpu to run on the CPU.");

    public static readonly IReadOnlyList<DiagnosticCode> All =
    [
        ModelFileNotFound, CheckpointHeaderInvalid, CheckpointSizeMismatch, TokenizerMissing, TokenizerInvalid,
        UnknownMetadata, InvalidClassName, TokenizerVocabularyMismatch, DuplicateClassName, ModelFileIo, InternalError,
        ArtifactNotFound, ArtifactCorrupt, ArtifactVersionUnsupported, ArtifactShapeMismatch, CudaDeviceNotAvailable,
        PromptTooLong, InvalidGenerationOptions,
        UnknownCompressionPass, InvalidCompressionOption, GroupSizeDoesNotDivide, CalibrationDataInvalid, EvaluationDataInvalid,
        QualityGateFailed,
        InvalidSparsity, SparsityGroupDoesNotDivide, UnknownPruneLayer,
        InvalidCacheLimit,
        TorchSharpLoaderNotPatched, DistillationStudentMismatch,
        DistillationPackageMissing, DistillationPluginNotLoaded,
        InvalidDropLayers, InvalidLowRankTarget,
    ];
}
