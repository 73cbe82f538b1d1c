using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;
using ModelSdk.Distillation.Student;
using ModelSdk.Distillation.Training;
using ModelSdk.Tensors;

namespace ModelSdk.Distillation.Passes;

/// <summary>
/// <c>distill</c>: logit distillation of the model as the earlier passes left it (the student) against the uncompressed
/// model (the teacher) on the training text (the calibration data). Trains what the student's formats store exactly —
/// fp32/fp16 values, the group scales (and minimums) of quantized matrices with their integer codes fixed, and the two
/// factors of low-rank matrices — and writes it back in the same formats, so the artifact runs on the same kernels. The
/// student may have fewer blocks than the teacher (drop-layers). The manifest records the teacher's and the
/// training tokens' hashes, the steps and the first and final loss.
/// </summary>
public sealed class DistillPass(DistillationSettings settings) : IModelPass
{
    public const string PassName = "distill";

    public static PassDescriptor Descriptor { get; } = new(PassName,
        "logit distillation against the uncompressed model on the calibration text (trains fp32 values and quantization scales)",
        ["Steps", "LearningRate", "BatchSize", "SequenceLength", "Temperature", "CrossEntropyWeight", "Seed", "TrainEmbedding"],
        options => new DistillPass(ReadSettings(options)));

    public DistillationSettings Settings { get; } = settings;

    public string Name => PassName;

    public int Version => 1;

    public IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        new("Steps", Settings.Steps.ToString(CultureInfo.InvariantCulture)),
        new("LearningRate", Settings.LearningRate.ToString("R", CultureInfo.InvariantCulture)),
        new("BatchSize", Settings.BatchSize.ToString(CultureInfo.InvariantCulture)),
        new("SequenceLength", Settings.SequenceLength.ToString(CultureInfo.InvariantCulture)),
        new("Temperature", Settings.Temperature.ToString("R", CultureInfo.InvariantCulture)),
        new("CrossEntropyWeight", Settings.CrossEntropyWeight.ToString("R", CultureInfo.InvariantCulture)),
        new("Seed", Settings.Seed.ToString(CultureInfo.InvariantCulture)),
        new("TrainEmbedding", Settings.TrainEmbedding ? "true" : "false"),
    ];

    public bool NeedsCalibration => true;

    public TensorType? MatrixType => null;

    /// <summary>Reads the options (MSDK1012 on a bad value); defaults from <see cref="DistillationSettings"/>.</summary>
    public static DistillationSettings ReadSettings(PassOptions options)
    {
        var d = new DistillationSettings();
        return new DistillationSettings(
            options.GetInt("Steps", d.Steps, min: 1, max: 1_000_000),
            options.GetDouble("LearningRate", d.LearningRate, min: 1e-9, max: 1),
            options.GetInt("BatchSize", d.BatchSize, min: 1, max: 1024),
            options.GetInt("SequenceLength", d.SequenceLength, min: 2, max: LlamaConfig.MaxContext),
            options.GetDouble("Temperature", d.Temperature, min: 0.05, max: 100),
            options.GetDouble("CrossEntropyWeight", d.CrossEntropyWeight, min: 0, max: 1),
            options.GetInt("Seed", d.Seed, min: 0),
            options.GetBool("TrainEmbedding", d.TrainEmbedding));
    }

    public void Validate(LlamaConfig config)
    {
        if (Settings.SequenceLength > config.ContextLength)
            throw PassOptions.Invalid("SequenceLength", Settings.SequenceLength.ToString(CultureInfo.InvariantCulture),
                $"at most the model's context length, {config.ContextLength}");
    }

    public void Run(WorkingModel model, PassContext context)
    {
        var reference = context.Reference;
        // Logits are matched position by position, so only what they depend on must agree; a student with fewer blocks
        // (drop-layers) is fine: each block starts from the teacher's weights of the block it kept.
        if (reference.Config with { Layers = model.Config.Layers } != model.Config)
            throw new ModelSdkException(DiagnosticCodes.DistillationStudentMismatch,
                "distill needs a student of the teacher's width, heads and vocabulary (its block count may be smaller).");
        var data = new TokenWindows(context.Calibration.Sequences, Settings.SequenceLength, Settings.Seed);
        TorchSharp.torch.manual_seed(Settings.Seed);
        using var teacher = new TorchLlama(reference, trainable: false);
        var vocabulary = model.VocabularyMatrices;
        using var student = new TorchLlama(model, name => Settings.TrainEmbedding || !vocabulary.Contains(name));
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: training {student.TrainableValues} values on {data.TokenCount} tokens ({Settings.Steps} steps of {Settings.BatchSize}×{data.Length})"));
        var run = DistillationTrainer.Train(student, teacher, data, Settings, Name, context);
        student.ExportTo(model);

        context.RecordResult(this, "teacher", HashOf(reference));
        context.RecordResult(this, "data", ContentHash.OfBytes(MemoryMarshal.AsBytes(data.Stream)));
        context.RecordResult(this, "steps", run.Steps.ToString(CultureInfo.InvariantCulture));
        context.RecordResult(this, "tokens", run.Tokens.ToString(CultureInfo.InvariantCulture));
        context.RecordResult(this, "firstLoss", run.FirstLoss.ToString("0.000000", CultureInfo.InvariantCulture));
        context.RecordResult(this, "finalLoss", run.FinalLoss.ToString("0.000000", CultureInfo.InvariantCulture));
    }

    /// <summary>XxHash128 of the teacher's tensors, names and bytes in artifact order.</summary>
    private static string HashOf(WorkingModel model)
    {
        var hash = new XxHash128();
        foreach (var name in model.TensorNames)
        {
            hash.Append(System.Text.Encoding.UTF8.GetBytes(name));
            model[name].Data.WriteTo(bytes => hash.Append(bytes));
        }
        return ContentHash.ToHex(hash.GetCurrentHashAsUInt128());
    }
}
