using ModelSdk.Artifacts;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Diagnostics;
using ModelSdk.Distillation.Passes;
using ModelSdk.Distillation.Tests.Support;
using ModelSdk.Distillation.Training;
using ModelSdk.Runtime;
using ModelSdk.Tensors;
using TorchSharp;

namespace ModelSdk.Distillation.Tests.Passes;

/// <summary>The distill pass on the real stories15M: deterministic, exported into a runnable artifact, recorded, cancellable.</summary>
public sealed class DistillPassTests
{
    private static string TrainingText => Path.Combine(AppContext.BaseDirectory, "Data", "dev-stories-1-55.txt");

    private static readonly DistillationSettings Tiny = new(Steps: 3, LearningRate: 1e-3, BatchSize: 1, SequenceLength: 16, Seed: 7);

    [Fact]
    public void Distilled_int4_artifact_is_deterministic_recorded_and_runs_on_the_runtime()
    {
        torch.set_num_threads(1);
        var rtn = RtnInt4Pass.Descriptor.Create(new PassOptions([new("GroupSize", "128")]));
        string Compile(string name, params IModelPass[] passes) => Models.Compile(name, r => r with
        {
            Passes = passes,
            CalibrationPath = passes.Any(p => p.NeedsCalibration) ? TrainingText : null,
        });
        var plain = Compile("q4.msdk", rtn);
        var first = Compile("q4-distilled-a.msdk", rtn, new DistillPass(Tiny));
        var second = Compile("q4-distilled-b.msdk", rtn, new DistillPass(Tiny));

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second)); // same seed, same bytes

        using var distilled = LanguageModel.Load(first, new LoadOptions { Threads = 1 });
        using var quantized = LanguageModel.Load(plain, new LoadOptions { Threads = 1 });
        Assert.Equal("q4_g128_sym", distilled.Manifest.WeightFormat);
        var record = distilled.Manifest.Provenance.Passes[1];
        Assert.Equal("distill", record.Name);
        Assert.NotNull(record.Results);
        Assert.Equal("3", record.Results["steps"]);
        Assert.Equal("48", record.Results["tokens"]);
        Assert.Matches("^[0-9a-f]{32}$", record.Results["teacher"]);
        Assert.Matches("^[0-9a-f]{32}$", record.Results["data"]);
        Assert.True(double.Parse(record.Results["finalLoss"], System.Globalization.CultureInfo.InvariantCulture) > 0);

        // Training changed the scales (and only what the format stores): the runtime computes different logits.
        var tokens = distilled.Tokenize("Once upon a time");
        var after = distilled.GetNextTokenLogits(tokens);
        var before = quantized.GetNextTokenLogits(tokens);
        Assert.True(after.All(float.IsFinite));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Training_stops_when_cancelled()
    {
        torch.set_num_threads(1);
        using var imported = Llama2CheckpointImporter.Import(Models.Checkpoint);
        using var student = WorkingModel.FromImported(imported);
        using var cancel = new CancellationTokenSource();
        var log = new List<string>();
        var context = new PassContext(
            () => CalibrationText.Load(TrainingText, Models.Tokenizer, CalibrationSettings.Default, student.Config.ContextLength),
            () => WorkingModel.FromImported(imported),
            message =>
            {
                log.Add(message);
                if (message.Contains("step 1/", StringComparison.Ordinal)) cancel.Cancel();
            },
            cancel.Token);
        var pass = new DistillPass(Tiny with { Steps = 1000 });

        Assert.ThrowsAny<OperationCanceledException>(() => pass.Run(student, context));
        Assert.Contains(log, m => m.StartsWith("distill: step 1/1000, loss ", StringComparison.Ordinal) && m.EndsWith(" tokens/s", StringComparison.Ordinal));
        Assert.DoesNotContain(log, m => m.Contains("step 3/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Steps", "0")]
    [InlineData("LearningRate", "fast")]
    [InlineData("CrossEntropyWeight", "1.5")]
    [InlineData("Temperature", "0")]
    public void Bad_options_are_MSDK1012(string name, string value)
    {
        var error = Assert.Throws<ModelSdkException>(() => DistillPass.Descriptor.Create(new PassOptions([new(name, value)])));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption.Id, error.Code.Id);
    }

    [Fact]
    public void Sequence_longer_than_the_context_is_MSDK1012()
    {
        var config = Llama2CheckpointImporter.ReadConfig(Models.Checkpoint);
        var pass = new DistillPass(new DistillationSettings(SequenceLength: config.ContextLength + 1));
        var error = Assert.Throws<ModelSdkException>(() => pass.Validate(config));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption.Id, error.Code.Id);
    }
    [Fact]
    public void Student_of_another_width_or_vocabulary_is_MSDK1051()
    {
        using var imported = Llama2CheckpointImporter.Import(Models.Checkpoint);
        using var student = WorkingModel.FromImported(imported);
        // Logits over different vocabularies (or a student that did not start from the teacher's width) cannot be matched.
        foreach (var teacherConfig in new[] { student.Config with { VocabSize = 32001 }, student.Config with { Dim = 256, Heads = 8, KvHeads = 8 } })
        {
            var context = new PassContext(reference: () => new WorkingModel(teacherConfig, []));
            var error = Assert.Throws<ModelSdkException>(() => new DistillPass(Tiny).Run(student, context));
            Assert.Equal(DiagnosticCodes.DistillationStudentMismatch.Id, error.Code.Id);
        }
    }

    [Fact]
    public void Student_with_fewer_blocks_distills_against_the_full_teacher()
    {
        torch.set_num_threads(1);
        string Compile(string name, params IModelPass[] passes) => Models.Compile(name, r => r with
        {
            Passes = passes,
            CalibrationPath = passes.Any(p => p.NeedsCalibration) ? TrainingText : null,
        });
        var dropped = Compile("drop3.msdk", DropLayersPass.Listed([3]));
        var distilled = Compile("drop3-distilled.msdk", DropLayersPass.Listed([3]), new DistillPass(Tiny));

        using var shallow = LanguageModel.Load(dropped, new LoadOptions { Threads = 1 });
        using var trained = LanguageModel.Load(distilled, new LoadOptions { Threads = 1 });
        Assert.Equal(5, trained.Config.Layers);
        var record = trained.Manifest.Provenance.Passes[1];
        Assert.Equal("distill", record.Name);
        Assert.Equal("3", record.Results!["steps"]);
        var tokens = trained.Tokenize("Once upon a time");
        var after = trained.GetNextTokenLogits(tokens);
        Assert.True(after.All(float.IsFinite));
        Assert.NotEqual(shallow.GetNextTokenLogits(tokens), after); // the five blocks were trained
    }

    [Fact]
    public void Low_rank_factors_are_what_distillation_trains_so_the_rank_stays()
    {
        torch.set_num_threads(1);
        using var imported = Llama2CheckpointImporter.Import(Models.Checkpoint);
        using var student = WorkingModel.FromImported(imported);
        var name = TensorNames.W1(0);
        new LowRankPass(0.5, null, [name]).Run(student, new PassContext());
        var before = student[name].LowRank!;
        var context = new PassContext(
            () => CalibrationText.Load(TrainingText, Models.Tokenizer, CalibrationSettings.Default, student.Config.ContextLength),
            () => WorkingModel.FromImported(imported));

        new DistillPass(Tiny).Run(student, context);

        var after = Assert.IsType<LowRankFactors>(student[name].LowRank);
        Assert.Equal((before.Rows, before.Cols, before.Rank), (after.Rows, after.Cols, after.Rank));
        Assert.NotEqual(before.B, after.B);
        Assert.NotEqual(before.A, after.A);
        Assert.Equal(after.Product(), student.GetFloats(name)); // still exactly a rank-104 matrix
    }

    [Fact]
    public void Distilled_low_rank_matrices_are_stored_as_their_trained_factors()
    {
        torch.set_num_threads(1);
        var name = TensorNames.W1(0);
        using var imported = Llama2CheckpointImporter.Import(Models.Checkpoint);
        using var untrained = WorkingModel.FromImported(imported);
        new LowRankPass(0.5, null, [name]).Run(untrained, new PassContext());
        var before = untrained[name].LowRank!;

        var path = Models.Compile("lr-distilled.msdk", r => r with { Passes = [new LowRankPass(0.5, null, [name]), new DistillPass(Tiny)], CalibrationPath = TrainingText });

        using (var artifact = ModelArtifact.Open(path))
        {
            Assert.False(artifact.Contains(name));
            Assert.Equal([(long)before.Rank, before.Cols], artifact.GetEntry(TensorNames.LowRankA(name)).Shape);
            Assert.Equal([(long)before.Rows, before.Rank], artifact.GetEntry(TensorNames.LowRankB(name)).Shape);
            Assert.NotEqual(before.A, artifact.GetSpan<float>(TensorNames.LowRankA(name), TensorType.F32).ToArray());
            Assert.NotEqual(before.B, artifact.GetSpan<float>(TensorNames.LowRankB(name), TensorType.F32).ToArray());
        }
        using var model = LanguageModel.Load(path, new LoadOptions { Threads = 1, Device = ModelDevice.Cpu });
        Assert.All(model.GetNextTokenLogits(model.Tokenize("Once upon a time")), l => Assert.True(float.IsFinite(l)));
    }
}
