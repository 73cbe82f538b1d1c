using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Quantization;

/// <summary>The pass registry, options, cache key and the errors a user gets for bad compression settings.</summary>
public sealed class QuantizationPipelineTests
{
    private static string Checkpoint => Path.Combine(TestModels.SharedModels, "stories15M.bin");

    private static string Tokenizer => Path.Combine(TestModels.SharedModels, "tokenizer.model");

    private static PassOptions Options(params (string Name, string Value)[] values) => new(values.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)));

    private static IReadOnlyList<IModelPass> Passes(string quantize, params (string Name, string Value)[] options)
        => PassRegistry.Create(quantize, Options(options));

    private static string Key(IReadOnlyList<IModelPass> passes, string? calibration = null)
        => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = passes, CalibrationPath = calibration }).CacheKey;

    [Fact]
    public void Registry_ParsesOptions_IntoTypedPasses_WithCanonicalOptions()
    {
        var pass = Assert.IsType<RtnInt4Pass>(Assert.Single(Passes("RTN-INT4", ("GroupSize", "64"), ("symmetric", "FALSE"))));
        Assert.Equal(TensorType.Q4G64Asym, pass.Format.Type);
        Assert.Equal([new("GroupSize", "64"), new("Symmetric", "false"), new("QuantizeClassifier", "true")], pass.Options);
        Assert.Empty(Passes("none"));
        Assert.Empty(Passes(""));
        Assert.Equal(TensorType.Q8G32, Assert.IsType<RtnInt8Pass>(Assert.Single(Passes("rtn-int8"))).Format.Type);
        Assert.Equal("f16", Assert.Single(Passes("f16")).Name);

        var gptq = Assert.IsType<GptqInt4Pass>(Assert.Single(Passes("gptq-int4", ("GroupSize", "128"), ("ActOrder", "yes"), ("Damping", "5%"))));
        Assert.Equal(TensorType.Q4G128Sym, gptq.Format.Type);
        Assert.True(gptq.NeedsCalibration);
        Assert.Equal([new("GroupSize", "128"), new("Symmetric", "true"), new("QuantizeClassifier", "true"), new("ActOrder", "true"), new("Damping", "0.05")],
            gptq.Options);
        Assert.Equal(TensorType.Q8G64, Assert.IsType<GptqInt8Pass>(Assert.Single(Passes("gptq-int8", ("GroupSize", "64")))).Format.Type);
        var awq = Assert.IsType<AwqPass>(Assert.Single(Passes("awq-int4", ("Symmetric", "false"), ("Clip", "false"))));
        Assert.Equal(TensorType.Q4G32Asym, awq.Format.Type);
        Assert.Equal([new("GroupSize", "32"), new("Symmetric", "false"), new("QuantizeClassifier", "true"), new("Clip", "false"), new("DuoScaling", "false")],
            awq.Options);
        Assert.True(Assert.IsType<AwqPass>(Assert.Single(Passes("awq-int4", ("DuoScaling", "true")))).DuoScaling);
    }

    [Fact]
    public void UnknownQuantize_IsMsdk1011_ListingTheChoices()
    {
        var e = Assert.Throws<ModelSdkException>(() => Passes("int4"));
        Assert.Equal(DiagnosticCodes.UnknownCompressionPass, e.Code);
        Assert.Contains("none, f16, rtn-int8, rtn-int4, gptq-int8, gptq-int4, awq-int4", e.Message);
    }

    [Theory]
    [InlineData("rtn-int4", "GroupSize", "48", "one of 32, 64, 128")]
    [InlineData("rtn-int4", "Symmetric", "maybe", "true, false")]
    [InlineData("f16", "GroupSize", "32", "does not apply to f16")]
    [InlineData("none", "GroupSize", "32", "no compression")]
    [InlineData("rtn-int8", "Symmetric", "true", "does not apply to rtn-int8")]
    [InlineData("gptq-int4", "GroupSize", "16", "one of 32, 64, 128")]
    [InlineData("gptq-int4", "Damping", "2", "a number in 1E-06..1")]
    [InlineData("gptq-int4", "ActOrder", "sometimes", "true, false")]
    [InlineData("gptq-int8", "Symmetric", "false", "does not apply to gptq-int8")]
    [InlineData("awq-int4", "Clip", "maybe", "true, false")]
    [InlineData("awq-int4", "Damping", "0.01", "does not apply to awq-int4")]
    public void BadOrInapplicableOption_IsMsdk1012(string quantize, string option, string value, string expected)
    {
        var e = Assert.Throws<ModelSdkException>(() => Passes(quantize, (option, value)));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, e.Code);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void CacheKey_ChangesWithEveryOption_AndNotWithTheirSpelling()
    {
        var baseline = Key(Passes("rtn-int4"));
        Assert.Equal(baseline, Key(Passes("rtn-int4", ("GroupSize", "32"), ("Symmetric", "true"))));
        Assert.Equal(baseline, Key(Passes("RTN-INT4", ("symmetric", "yes"))));
        string[] others =
        [
            Key([]),
            Key(Passes("rtn-int4", ("GroupSize", "64"))),
            Key(Passes("rtn-int4", ("Symmetric", "false"))),
            Key(Passes("rtn-int4", ("QuantizeClassifier", "false"))),
            Key(Passes("rtn-int8")),
            Key(Passes("f16")),
        ];
        Assert.DoesNotContain(baseline, others);
        Assert.Equal(others.Length, others.Distinct().Count());

        // The calibrated passes: every option, and which pass, changes the key; the same configuration spelled differently does not.
        var calibration = Path.Combine(TestModels.RepoRoot, "samples", "TinyStories", "data", "calibration.txt");
        var gptq = Key(Passes("gptq-int4"), calibration);
        Assert.Equal(gptq, Key(Passes("gptq-int4", ("GroupSize", "32"), ("ActOrder", "false"), ("Damping", "1%")), calibration));
        string[] calibrated =
        [
            Key(Passes("gptq-int4", ("GroupSize", "64")), calibration),
            Key(Passes("gptq-int4", ("Symmetric", "false")), calibration),
            Key(Passes("gptq-int4", ("ActOrder", "true")), calibration),
            Key(Passes("gptq-int4", ("Damping", "0.1")), calibration),
            Key(Passes("gptq-int4", ("QuantizeClassifier", "false")), calibration),
            Key(Passes("gptq-int8"), calibration),
            Key(Passes("awq-int4"), calibration),
            Key(Passes("awq-int4", ("Clip", "false")), calibration),
            Key(Passes("awq-int4", ("DuoScaling", "true")), calibration),
            Key(Passes("smoothquant-w8a8"), calibration),
            Key(Passes("smoothquant-w8a8", ("Alpha", "0.8")), calibration),
            Key(Passes("smoothquant-w8a8", ("SmoothInputs", "all")), calibration),
            Key(Passes("smoothquant-w8a8", ("QuantizeClassifier", "false")), calibration),
        ];
        Assert.Equal(calibrated[^4], Key(Passes("smoothquant-w8a8", ("Alpha", "50%"), ("SmoothInputs", "Norms")), calibration));
        Assert.DoesNotContain(gptq, calibrated);
        Assert.Equal(calibrated.Length, calibrated.Distinct().Count());
    }

    [Fact]
    public void CacheKey_ChangesWithThePassVersion_AndTheCalibrationText()
    {
        var folder = Directory.CreateTempSubdirectory("modelsdk-quant-").FullName;
        var text = Path.Combine(folder, "calibration.txt");
        File.WriteAllText(text, "Once upon a time there was a cat.");
        var v1 = Key([new FakeCalibratedPass(1)], text);
        Assert.Equal(v1, Key([new FakeCalibratedPass(1)], text));
        Assert.NotEqual(v1, Key([new FakeCalibratedPass(2)], text));
        File.WriteAllText(text, "Once upon a time there was a dog.");
        Assert.NotEqual(v1, Key([new FakeCalibratedPass(1)], text));
    }

    [Fact]
    public void Manifest_RecordsThePasses_AndTheWeightFormat()
    {
        var plan = ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = Passes("rtn-int4", ("GroupSize", "128")) });
        Assert.Equal("q4_g128_sym", plan.Manifest.WeightFormat);
        var record = Assert.Single(plan.Manifest.Provenance.Passes);
        Assert.Equal("rtn-int4", record.Name);
        Assert.Equal(1, record.Version);
        Assert.Equal("128", record.Options["GroupSize"]);
    }

    [Fact]
    public void RowsThatAreNotWholeBlocks_AreMsdk1013_BeforeAnyWork()
    {
        var folder = Directory.CreateTempSubdirectory("modelsdk-quant-").FullName;
        var checkpoint = SyntheticCheckpoint(folder, dim: 48, hidden: 96);
        var e = Assert.Throws<ModelSdkException>(() =>
            ModelCompiler.Plan(new CompileRequest(checkpoint, Tokenizer, "test") { Passes = Passes("rtn-int4") }));
        Assert.Equal(DiagnosticCodes.GroupSizeDoesNotDivide, e.Code);
        Assert.Contains("dim is 48", e.Message);
        // fp16 has no groups: the same model compresses.
        Assert.Equal("f16", ModelCompiler.Plan(new CompileRequest(checkpoint, Tokenizer, "test") { Passes = Passes("f16") }).Manifest.WeightFormat);
    }

    [Fact]
    public void MissingOrEmptyCalibration_IsMsdk1014()
    {
        var folder = Directory.CreateTempSubdirectory("modelsdk-quant-").FullName;
        var empty = Path.Combine(folder, "empty.txt");
        File.WriteAllText(empty, "");
        var blank = Path.Combine(folder, "blank.txt");
        File.WriteAllText(blank, "\n<|endoftext|>\n   \n");
        foreach (var path in new string?[] { null, Path.Combine(folder, "missing.txt"), empty })
        {
            var e = Assert.Throws<ModelSdkException>(() =>
                ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = [new FakeCalibratedPass(1)], CalibrationPath = path }));
            Assert.Equal(DiagnosticCodes.CalibrationDataInvalid, e.Code);
        }
        Assert.Equal(DiagnosticCodes.CalibrationDataInvalid, Assert.Throws<ModelSdkException>(() =>
            ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = Passes("gptq-int4") })).Code);
        var blankError = Assert.Throws<ModelSdkException>(() => CalibrationText.Load(blank, Tokenizer, CalibrationSettings.Default, 256));
        Assert.Equal(DiagnosticCodes.CalibrationDataInvalid, blankError.Code);
        // Calibration data for a pass that reads none is an error too, not silently ignored.
        File.WriteAllText(empty, "text");
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, Assert.Throws<ModelSdkException>(() =>
            ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = Passes("rtn-int4"), CalibrationPath = empty })).Code);
    }

    [Fact]
    public void CalibrationText_IsDeterministic_BosFirst_WithinTheLimits()
    {
        var dev = Path.Combine(TestModels.RepoRoot, "..", "shared", "eval", "dev.txt");
        var a = CalibrationText.Load(dev, Tokenizer, new CalibrationSettings(MaxSequences: 20, MaxTokens: 64), 256);
        var b = CalibrationText.Load(dev, Tokenizer, new CalibrationSettings(MaxSequences: 20, MaxTokens: 64), 256);
        Assert.Equal(20, a.Sequences.Count);
        Assert.All(a.Sequences, s => Assert.InRange(s.Length, 2, 64));
        Assert.All(a.Sequences, s => Assert.Equal(1, s[0]));
        Assert.Equal(a.Sequences, b.Sequences);
        // The first story's tokens are the runtime's tokens of it.
        var first = CalibrationText.SplitDocuments(File.ReadAllText(dev))[0];
        Assert.Equal(TestModels.Stories15M.Tokenize(first)[..64], a.Sequences[0]);
        Assert.Equal(256, CalibrationText.Load(dev, Tokenizer, CalibrationSettings.Default, 256).Sequences.Max(s => s.Length));
    }

    [Fact]
    public void Gates_AreCheckedAgainstTheMetrics()
    {
        var metrics = new QualityMetrics
        {
            Text = "eval.txt", Tokens = 100, Perplexity = 3.6523, ReferencePerplexity = 3.3450, PerplexityIncrease = 3.6523 / 3.3450 - 1,
            KlDivergence = 0.11, Top1Agreement = 0.86,
        };
        QualityGates.Parse("10%", "0.2").Check(metrics, "m");
        var e = Assert.Throws<ModelSdkException>(() => QualityGates.Parse("3%", null).Check(metrics, "m"));
        Assert.Equal(DiagnosticCodes.QualityGateFailed, e.Code);
        Assert.Contains("9.19% above the uncompressed 3.345", e.Message);
        Assert.Equal(DiagnosticCodes.QualityGateFailed, Assert.Throws<ModelSdkException>(() => QualityGates.Parse(null, "0.05").Check(metrics, "m")).Code);
        Assert.Equal(DiagnosticCodes.EvaluationDataInvalid, Assert.Throws<ModelSdkException>(() => QualityGates.Parse("3%", null).Check(null, "m")).Code);
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, Assert.Throws<ModelSdkException>(() => QualityGates.Parse("lots", null)).Code);
        Assert.Equal(0.03, QualityGates.Parse("3%", null).MaxPerplexityIncrease!.Value, 12);
        Assert.Equal(0.03, QualityGates.Parse("0.03", null).MaxPerplexityIncrease!.Value, 12);
    }

    /// <summary>A llama2.c checkpoint of any shape, all zeros (the header is what the planner reads).</summary>
    internal static string SyntheticCheckpoint(string folder, int dim, int hidden, int layers = 1, int vocab = 32000)
    {
        var config = new LlamaConfig { Dim = dim, HiddenDim = hidden, Layers = layers, Heads = 2, KvHeads = 2, VocabSize = vocab, ContextLength = 16, SharedClassifier = true };
        var path = Path.Combine(folder, $"synthetic-{dim}.bin");
        using var file = File.Create(path);
        foreach (var field in new[] { dim, hidden, layers, 2, 2, vocab, 16 }) file.Write(BitConverter.GetBytes(field));
        file.SetLength(Llama2CheckpointImporter.ExpectedLength(config));
        return path;
    }

    /// <summary>A pass that needs calibration data (the calibrated passes' contract), doing nothing.</summary>
    private sealed class FakeCalibratedPass(int version) : IModelPass
    {
        public string Name => "fake-calibrated";
        public int Version => version;
        public IReadOnlyList<KeyValuePair<string, string>> Options => [];
        public bool NeedsCalibration => true;
        public TensorType? MatrixType => null;
        public void Validate(LlamaConfig config) { }
        public void Run(WorkingModel model, PassContext context) => _ = context.Calibration;
    }
}
