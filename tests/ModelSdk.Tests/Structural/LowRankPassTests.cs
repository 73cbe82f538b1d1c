using ModelSdk.Compression.LinearAlgebra;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;
using ModelSdk.Tensors;
using ModelSdk.Tests.Quantization;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Structural;

/// <summary>The eigen-decomposition and truncated SVD behind low-rank, the pass's choice of matrices and ranks, and its errors.</summary>
public sealed class LowRankPassTests
{
    private static string Checkpoint => Path.Combine(TestModels.SharedModels, "stories15M.bin");

    private static string Tokenizer => Path.Combine(TestModels.SharedModels, "tokenizer.model");

    private static IModelPass LowRank(params (string Name, string Value)[] options)
        => Assert.Single(PassRegistry.CreatePipeline(null, null, new PassOptions(options.Select(o => new KeyValuePair<string, string>(o.Name, o.Value)))));

    [Fact]
    public void Jacobi_eigenvectors_are_orthonormal_and_satisfy_A_v_equals_lambda_v()
    {
        const int n = 40;
        var x = GptqTestSupport.Gaussian(n * n, seed: 4);
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) a[i * n + j] = x[i * n + j] + x[j * n + i];
        var (values, vectors) = SymmetricEigen.Decompose(a, n);
        for (var k = 0; k + 1 < n; k++) Assert.True(values[k] >= values[k + 1]);
        for (var k = 0; k < n; k++)
        {
            for (var i = 0; i < n; i++)
            {
                double av = 0;
                for (var j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
                Assert.Equal(values[k] * vectors[i * n + k], av, 1e-9);
            }
            for (var m = 0; m < n; m++)
            {
                double dot = 0;
                for (var i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + m];
                Assert.Equal(k == m ? 1 : 0, dot, 1e-10);
            }
        }
    }

    [Theory]
    [InlineData(48, 20)]
    [InlineData(20, 48)]
    public void Truncated_svd_is_the_best_rank_r_approximation(int rows, int cols)
    {
        var w = GptqTestSupport.Gaussian(rows * cols, seed: 11);
        var sigma = TruncatedSvd.SingularValues(w, rows, cols);
        Assert.Equal(Math.Min(rows, cols), sigma.Length);
        Assert.Equal(w.Sum(v => (double)v * v), sigma.Sum(s => s * s), 1e-6 * w.Length);
        foreach (var rank in new[] { 1, 7, Math.Min(rows, cols) })
        {
            var (factors, _) = TruncatedSvd.Factor(w, rows, cols, rank);
            Assert.Equal((rows, cols, rank), (factors.Rows, factors.Cols, factors.Rank));
            // Eckart–Young: the squared error of the best rank-r approximation is the sum of the other σ².
            var product = factors.Product();
            var error = w.Zip(product, (a, b) => (double)(a - b) * (a - b)).Sum();
            Assert.Equal(sigma.Skip(rank).Sum(s => s * s), error, 1e-4 * sigma[0] * sigma[0]);
        }
    }

    [Fact]
    public void A_matrix_of_rank_k_is_reproduced_by_k_factors()
    {
        const int rows = 30, cols = 24, k = 5;
        var left = GptqTestSupport.Gaussian(rows * k, seed: 1);
        var right = GptqTestSupport.Gaussian(k * cols, seed: 2);
        var w = new LowRankFactors(rows, cols, k, left, right).Product();
        var (factors, sigma) = TruncatedSvd.Factor(w, rows, cols, s => TruncatedSvd.RankForEnergy(s, 0.999999));
        Assert.Equal(k, factors.Rank);
        Assert.True(sigma[k] < 1e-3 * sigma[0]);
        var product = factors.Product();
        for (var i = 0; i < w.Length; i++) Assert.Equal(w[i], product[i], 1e-3);
    }

    [Fact]
    public void LowRankRatio_factors_the_chosen_matrices_at_the_rank_that_holds_that_share_of_values()
    {
        using var model = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 3);
        using var original = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 3);
        var pass = LowRank(("LowRankRatio", "50%"), ("LowRankLayers", "W1, layers.1.attention.wq"));
        Assert.Equal([new("LowRankRatio", "0.5"), new("LowRankLayers", "w1,layers.1.attention.wq"), new("LowRankCalibrated", "false"), new("LowRankStorage", "factored")], pass.Options);
        Assert.False(pass.NeedsCalibration);
        pass.Validate(model.Config);
        var context = new PassContext();
        pass.Run(model, context);

        string[] factored = [TensorNames.W1(0), TensorNames.W1(1), TensorNames.Wq(1)];
        foreach (var name in model.LayerMatrices)
        {
            var tensor = model[name];
            if (!factored.Contains(name))
            {
                Assert.Null(tensor.LowRank);
                Assert.Equal(original.GetFloats(name), model.GetFloats(name));
                continue;
            }
            var factors = Assert.IsType<LowRankFactors>(tensor.LowRank);
            // w1 is [128, 64]: ⌊0.5 · 128 · 64 / 192⌋ = 21; wq is [64, 64]: 16.
            Assert.Equal(name.EndsWith("w1", StringComparison.Ordinal) ? 21 : 16, factors.Rank);
            Assert.True(factors.ValueCount <= tensor.ElementCount / 2);
            Assert.Equal(TensorType.F32, tensor.Type);
            Assert.Equal(factors.Product(), model.GetFloats(name)); // later passes read the product (the artifact stores the factors)
        }
        Assert.Equal("21,16,21", context.ResultsOf(pass)!["ranks"]); // in LayerMatrices order: layers.0.w1, layers.1.wq, layers.1.w1
    }

    [Fact]
    public void Whitened_factors_reproduce_the_outputs_on_the_calibration_inputs_better_than_plain_ones()
    {
        const int rows = 40, cols = 32, rank = 8;
        var w = GptqTestSupport.Gaussian(rows * cols, seed: 21);
        var x = GptqTestSupport.CorrelatedActivations(200, cols, seed: 5);
        var (plain, _) = TruncatedSvd.Factor(w, rows, cols, rank);
        var (whitened, _) = TruncatedSvd.FactorWhitened(w, rows, cols, GptqTestSupport.Hessian(x), _ => rank, damping: 1e-6);
        Assert.Equal(rank, whitened.Rank);
        var plainError = GptqTestSupport.OutputError(w, plain.Product(), rows, cols, x);
        var whitenedError = GptqTestSupport.OutputError(w, whitened.Product(), rows, cols, x);
        Assert.True(whitenedError < 0.9 * plainError, $"output error {whitenedError} (whitened) vs {plainError} (plain)");
        // At full rank both are W itself.
        var (full, _) = TruncatedSvd.FactorWhitened(w, rows, cols, GptqTestSupport.Hessian(x), _ => cols, damping: 1e-6);
        var product = full.Product();
        for (var i = 0; i < w.Length; i++) Assert.Equal(w[i], product[i], 1e-3);
    }

    [Fact]
    public void LowRankCalibrated_factors_block_by_block_on_calibration_data()
    {
        using var model = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 3);
        var pass = LowRank(("LowRankRatio", "0.5"), ("LowRankLayers", "w2,wo"), ("LowRankCalibrated", "true"));
        Assert.True(pass.NeedsCalibration);
        var context = GptqTestSupport.Context(GptqTestSupport.RandomSequences(GptqTestSupport.Tiny, 6, seed: 3));
        pass.Run(model, context);
        foreach (var name in new[] { TensorNames.W2(0), TensorNames.W2(1), TensorNames.Wo(0), TensorNames.Wo(1) })
        {
            var factors = Assert.IsType<LowRankFactors>(model[name].LowRank);
            Assert.Equal(name.EndsWith("w2", StringComparison.Ordinal) ? 21 : 16, factors.Rank);
            Assert.Equal(factors.Product(), model.GetFloats(name));
        }
        Assert.Null(model[TensorNames.W1(0)].LowRank);
    }

    [Fact]
    public void LowRankEnergy_keeps_the_smallest_rank_that_reaches_the_energy()
    {
        using var model = GptqTestSupport.RandomModel(GptqTestSupport.Tiny, seed: 3);
        var w2 = model.GetFloats(TensorNames.W2(0));
        var pass = LowRank(("LowRankEnergy", "0.8"), ("LowRankLayers", "layers.0.feed_forward.w2"));
        pass.Run(model, new PassContext());
        var rank = model[TensorNames.W2(0)].LowRank!.Rank;
        var sigma = TruncatedSvd.SingularValues(w2, GptqTestSupport.Tiny.Dim, GptqTestSupport.Tiny.HiddenDim);
        var total = sigma.Sum(s => s * s);
        Assert.True(sigma.Take(rank).Sum(s => s * s) >= 0.8 * total);
        Assert.True(sigma.Take(rank - 1).Sum(s => s * s) < 0.8 * total);
    }

    [Fact]
    public void Stories15M_with_one_low_rank_matrix_compiles_and_runs()
    {
        var pass = LowRank(("LowRankRatio", "0.5"), ("LowRankLayers", "layers.5.feed_forward.w2"));
        var artifact = Path.Combine(TestModels.TempDirectory, "stories15M-lowrank.msdk");
        ModelCompiler.Compile(ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = [pass] }), artifact);
        using var model = LanguageModel.Load(artifact, new LoadOptions { Threads = 2, Device = ModelDevice.Cpu });
        Assert.Equal("f32", model.Manifest.WeightFormat);
        var record = Assert.Single(model.Manifest.Provenance.Passes);
        Assert.Equal("low-rank", record.Name);
        Assert.Equal("104", record.Results!["ranks"]); // ⌊0.5 · 288 · 768 / (288 + 768)⌋
        var tokens = model.Tokenize("Once upon a time");
        var logits = model.GetNextTokenLogits(tokens);
        Assert.All(logits, l => Assert.True(float.IsFinite(l)));
        Assert.NotEqual(TestModels.Stories15M.GetNextTokenLogits(tokens), logits);
    }

    [Theory]
    [InlineData("LowRankLayers", "w9", "names 'w9', which is no matrix of this model")]
    [InlineData("LowRankLayers", "layers.6", "names 'layers.6'")]
    [InlineData("LowRankRatio", "0.001", "rank 0")]
    public void Matrices_the_model_lacks_or_rank_zero_are_MSDK1053(string option, string value, string expected)
    {
        var options = option == "LowRankRatio" ? new[] { (option, value) } : [("LowRankRatio", "0.5"), (option, value)];
        var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Plan(new CompileRequest(Checkpoint, Tokenizer, "test") { Passes = [LowRank(options)] }));
        Assert.Equal(DiagnosticCodes.InvalidLowRankTarget, error.Code);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("LowRankRatio", "1.5")]
    [InlineData("LowRankRatio", "1")]
    [InlineData("LowRankEnergy", "0")]
    [InlineData("LowRankLayers", "w1")]
    [InlineData("LowRankCalibrated", "true")]
    [InlineData("LowRankCalibrated", "maybe")]
    [InlineData("LowRankStorage", "dense")]
    public void Bad_or_incomplete_options_are_MSDK1012(string option, string value)
    {
        var error = Assert.Throws<ModelSdkException>(() => LowRank((option, value)));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, error.Code);
        var storage = Assert.Throws<ModelSdkException>(() => LowRank(("LowRankRatio", "0.5"), ("LowRankStorage", "packed")));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, storage.Code);
        Assert.Contains("factored", storage.Message);
        var both = Assert.Throws<ModelSdkException>(() => LowRank(("LowRankRatio", "0.5"), ("LowRankEnergy", "0.9")));
        Assert.Equal(DiagnosticCodes.InvalidCompressionOption, both.Code);
    }
}
