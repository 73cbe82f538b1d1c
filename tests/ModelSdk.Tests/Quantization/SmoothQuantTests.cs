using ModelSdk.Artifacts;
using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Quantization;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Evaluation;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Quantization;

/// <summary>
/// SmoothQuant (<see cref="SmoothQuantPass"/>): the smoothing factors, that folding them leaves the fp32 model's logits
/// unchanged, that they lower the W8A8 error on outlier activations, the options, and the whole pass on stories15M.
/// </summary>
public sealed unsafe class SmoothQuantTests
{
    private static string CalibrationPath => Path.Combine(TestModels.RepoRoot, "samples", "TinyStories", "data", "calibration.txt");

    [Fact]
    public void Scales_AreTheCalibratedRangeToTheAlpha_OverTheWeightRangeToOneMinusAlpha()
    {
        double[] activation = [16, 1, 0, 4, 1e-12];
        double[] weight = [0.25, 1, 2, 0, 1e6];
        var s = SmoothingScales.Compute(activation, weight, 0.5);
        Assert.Equal(8, s[0], 12);      // √16 / √0.25
        Assert.Equal(1, s[1], 12);
        Assert.Equal(1, s[2]);          // no activation: left alone
        Assert.Equal(1, s[3]);          // no weight: left alone
        Assert.Equal(SmoothingScales.Floor, s[4]); // the paper's clamp
        Assert.Equal(Math.Pow(16, 0.8) / Math.Pow(0.25, 0.2), SmoothingScales.Compute(activation, weight, 0.8)[0], 9);
        Assert.Equal([2.0, 3.0], SmoothingScales.ColumnMax(2, [1f, -2f, 0.5f, 0f], [-2f, 3f]));
    }

    [Fact]
    public void Smoothing_LeavesStories15MsLogitsUnchanged()
    {
        using var reference = WorkingModel.FromImported(Llama2CheckpointImporter.Import(Path.Combine(TestModels.SharedModels, "stories15M.bin")), ownsImport: true);
        using var smoothed = WorkingModel.FromImported(Llama2CheckpointImporter.Import(Path.Combine(TestModels.SharedModels, "stories15M.bin")), ownsImport: true);
        var config = reference.Config with { ContextLength = 40 };
        var calibration = GptqTestSupport.RandomSequences(config, 4, 1);
        var test = GptqTestSupport.RandomSequences(config, 2, 2);
        var log = new List<string>();
        new SmoothQuantPass(0.5, SmoothQuantPass.SmoothNorms, quantizeClassifier: true).Smooth(smoothed, GptqTestSupport.Context(calibration, log));
        Assert.NotEqual(reference.GetFloats(TensorNames.AttentionNorm(3)), smoothed.GetFloats(TensorNames.AttentionNorm(3)));
        Assert.NotEqual(reference.GetFloats(TensorNames.W1(3)), smoothed.GetFloats(TensorNames.W1(3)));
        Assert.Equal(reference.GetFloats(TensorNames.Wo(3)), smoothed.GetFloats(TensorNames.Wo(3))); // "norms": wo's input is not smoothed
        Assert.Contains(log, m => m.Contains("layer 6/6", StringComparison.Ordinal));

        var expected = GptqModelOutput.Logits(reference, test);
        var actual = GptqModelOutput.Logits(smoothed, test);
        var largest = expected.Data.Max(MathF.Abs);
        for (var i = 0; i < expected.Data.Length; i++)
            Assert.True(MathF.Abs(actual.Data[i] - expected.Data[i]) <= 1e-4f * largest, $"logit {i}: {actual.Data[i]} vs {expected.Data[i]}");
    }

    [Fact]
    public void SmoothingAllInputs_LeavesTheFunctionUnchanged_WithGroupedQueryAttention()
    {
        var config = GptqTestSupport.Tiny; // 4 heads over 2 kv heads: wo's factors must be tied to fold into wv
        using var reference = GptqTestSupport.RandomModel(config, 5);
        using var smoothed = GptqTestSupport.RandomModel(config, 5);
        var test = GptqTestSupport.RandomSequences(config, 3, 6);
        new SmoothQuantPass(0.8, SmoothQuantPass.SmoothAll, quantizeClassifier: true).Smooth(smoothed, GptqTestSupport.Context(GptqTestSupport.RandomSequences(config, 4, 7)));
        Assert.NotEqual(reference.GetFloats(TensorNames.Wo(1)), smoothed.GetFloats(TensorNames.Wo(1)));
        Assert.NotEqual(reference.GetFloats(TensorNames.W2(1)), smoothed.GetFloats(TensorNames.W2(1)));
        var nmse = Numerics.Nmse(GptqModelOutput.Logits(smoothed, test).Data, GptqModelOutput.Logits(reference, test).Data);
        Assert.True(nmse < 1e-11, $"NMSE {nmse}");
    }

    [Fact]
    public void Smoothing_LowersTheW8A8Error_OnActivationOutliers()
    {
        // One linear whose inputs have a few outlier channels (as LLMs' do): per-token int8 spends its 255 levels on them.
        const int tokens = 64, rows = 96, cols = 256;
        var w = GptqTestSupport.Gaussian(rows * cols, 11, 0.05);
        var x = GptqTestSupport.Gaussian(tokens * cols, 12);
        for (var t = 0; t < tokens; t++)
            foreach (var c in new[] { 3, 77, 200 }) x[t * cols + c] *= 40;
        var activations = new Activations(tokens, cols, x);
        var forward = new CalibrationForward(GptqTestSupport.Tiny, [[1]]);
        var s = SmoothingScales.Compute(forward.MaxAbs(activations), SmoothingScales.ColumnMax(cols, w), 0.5);

        var smoothedW = (float[])w.Clone();
        ChannelScaleFolding.ScaleColumns(smoothedW, rows, cols, s);
        var smoothedX = (float[])x.Clone();
        for (var t = 0; t < tokens; t++)
            for (var c = 0; c < cols; c++) smoothedX[t * cols + c] = (float)(x[t * cols + c] / s[c]);

        var plain = W8A8Error(w, x, w, x, tokens, rows, cols);
        var smoothed = W8A8Error(w, x, smoothedW, smoothedX, tokens, rows, cols);
        Assert.True(smoothed < 0.5 * plain, $"output NMSE smoothed {smoothed:g3} vs plain {plain:g3}");
    }

    /// <summary>NMSE of the W8A8 kernel's outputs on (w', x') against the exact fp32 product of (w, x).</summary>
    private static double W8A8Error(float[] w, float[] x, float[] quantizedW, float[] quantizedX, int tokens, int rows, int cols)
    {
        var packed = PackedTensor.QuantizeRtn(TensorFormats.Of(TensorType.Q8Row), quantizedW, rows, cols);
        var exact = new float[tokens * rows];
        var actual = new float[tokens * rows];
        for (var t = 0; t < tokens; t++)
            for (var r = 0; r < rows; r++)
            {
                double sum = 0;
                for (var c = 0; c < cols; c++) sum += (double)w[r * cols + c] * x[t * cols + c];
                exact[t * rows + r] = (float)sum;
            }
        fixed (byte* pw = packed.Data)
        fixed (float* px = quantizedX, pa = actual)
            for (var t = 0; t < tokens; t++)
                QuantizedMatVec.Rows(new WeightMatrix(TensorType.Q8Row, pw, rows, cols), px + t * cols, pa + t * rows, 0, rows, false, VectorWidths.Best);
        return Numerics.Nmse(actual, exact);
    }

    [Theory]
    [InlineData("Alpha", "1.5")]
    [InlineData("Alpha", "-0.1")]
    [InlineData("Alpha", "half")]
    [InlineData("SmoothInputs", "qkv")]
    public void BadOptions_AreMsdk1012_NamingTheValidValues(string name, string value)
    {
        var error = Assert.Throws<ModelSdkException>(() => PassRegistry.Create("smoothquant-w8a8", new PassOptions([new(name, value)])));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, error.Code);
        Assert.Contains(name == "Alpha" ? "0..1" : "norms, all, none", error.Message);
    }

    [Fact]
    public void Options_AreCanonical_AndAlphaDoesNotApplyWithoutSmoothing()
    {
        var a = GptqTests.Registered("smoothquant-w8a8", new PassOptions([new("Alpha", "0.50")]));
        var b = GptqTests.Registered("smoothquant-w8a8", new PassOptions([new("alpha", "50%"), new("SmoothInputs", "NORMS")]));
        Assert.Equal(a.Options, b.Options);
        Assert.Equal(1, a.Version);
        Assert.True(a.NeedsCalibration);
        Assert.Equal(TensorType.Q8Row, a.MatrixType);
        Assert.NotEqual(a.Options, GptqTests.Registered("smoothquant-w8a8", new PassOptions([new("Alpha", "0.8")])).Options);

        var plain = GptqTests.Registered("smoothquant-w8a8", new PassOptions([new("SmoothInputs", "none")]));
        Assert.False(plain.NeedsCalibration);
        Assert.DoesNotContain(plain.Options, o => o.Key == "Alpha");
        var error = Assert.Throws<ModelSdkException>(() => PassRegistry.Create("smoothquant-w8a8", new PassOptions([new("SmoothInputs", "none"), new("Alpha", "0.5")])));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, error.Code);
        Assert.Throws<ModelSdkException>(() => PassRegistry.Create("smoothquant-w8a8", new PassOptions([new("GroupSize", "32")])));
    }

    [Fact]
    public void Pass_OnStories15M_StoresQ8RowWeights_AndStaysCloseToFp32()
    {
        var plan = ModelCompiler.Plan(new CompileRequest(Path.Combine(TestModels.SharedModels, "stories15M.bin"),
            Path.Combine(TestModels.SharedModels, "tokenizer.model"), "test")
        {
            Passes = PassRegistry.Create("smoothquant-w8a8", PassOptions.Empty),
            CalibrationPath = CalibrationPath,
            Calibration = new CalibrationSettings(MaxSequences: 16, MaxTokens: 128), // a slice keeps the test fast
        });
        var path = Path.Combine(TestModels.TempDirectory, "stories15M-smoothquant.msdk");
        ModelCompiler.Compile(plan, path);
        using (var artifact = ModelArtifact.Open(path))
        {
            Assert.Equal("q8_row", artifact.Manifest.WeightFormat);
            Assert.Equal("q8_row", artifact.GetEntry(TensorNames.Wq(0)).Type);
            Assert.Equal("q8_row", artifact.GetEntry(TensorNames.TokenEmbedding).Type);
            Assert.Equal("f32", artifact.GetEntry(TensorNames.AttentionNorm(0)).Type);
            Assert.True(new FileInfo(path).Length < new FileInfo(TestModels.Stories15MArtifact).Length * 0.27);
        }

        using var model = LanguageModel.Load(path, new LoadOptions { Threads = 2 });
        var stories = EvaluationText.SplitDocuments(File.ReadAllText(Path.Combine(TestModels.RepoRoot, "..", "shared", "eval", "dev.txt")));
        var result = TextEvaluator.Evaluate(model, string.Join("\n<|endoftext|>\n", stories.Take(2)), TestModels.Stories15M, maxTokens: 300);
        Assert.True(result.Top1Agreement > 0.95, $"top-1 agreement {result.Top1Agreement:P2}");
        Assert.True(result.KlDivergence < 0.01, $"KL {result.KlDivergence}");

        // The GPU kernels read f32/f16 only: a W8A8 model is refused with the fix, never run some other way.
        var error = Assert.Throws<ModelSdkException>(() => LanguageModel.Load(path, new LoadOptions { Device = ModelDevice.Cuda }, null, false,
            () => GpuDevice.CreateEmulator(warpSize: 2, warpsPerGroup: 4, multiprocessors: 2)));
        Assert.Contains("q8_row", error.Message);
        Assert.Contains("ModelDevice.Cpu", error.Message);
    }

    [Fact]
    public void Pass_WithoutCalibrationData_IsMsdk1014_UnlessNothingIsSmoothed()
    {
        CompileRequest Request(string smooth) => new(Path.Combine(TestModels.SharedModels, "stories15M.bin"), Path.Combine(TestModels.SharedModels, "tokenizer.model"), "test")
        {
            Passes = PassRegistry.Create("smoothquant-w8a8", new PassOptions([new("SmoothInputs", smooth)])),
        };
        var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Plan(Request("norms")));
        Assert.Equal(DiagnosticCodes.CalibrationDataInvalid, error.Code);
        Assert.NotNull(ModelCompiler.Plan(Request("none")));
    }
}
