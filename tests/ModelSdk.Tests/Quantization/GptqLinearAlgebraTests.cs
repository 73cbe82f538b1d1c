using ModelSdk.Compression.LinearAlgebra;

namespace ModelSdk.Tests.Quantization;

/// <summary>The double-precision Cholesky helpers GPTQ builds on, and the fp32 GEMM of the calibration forward.</summary>
public sealed class GptqLinearAlgebraTests
{
    /// <summary>A = B Bᵀ + n·εI: symmetric positive definite, moderately conditioned.</summary>
    private static double[] RandomSpd(int n, int seed)
    {
        var b = GptqTestSupport.Gaussian(n * n, seed);
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var k = 0; k < n; k++) sum += (double)b[i * n + k] * b[j * n + k];
                a[i * n + j] = sum + (i == j ? 0.1 * n : 0);
            }
        return a;
    }

    private static double[] Multiply(double[] a, double[] b, int n, bool transposeA = false)
    {
        var c = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var k = 0; k < n; k++) sum += (transposeA ? a[k * n + i] : a[i * n + k]) * b[k * n + j];
                c[i * n + j] = sum;
            }
        return c;
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(131)]
    public void Factor_ReproducesTheMatrix_AndIsLowerTriangular(int n)
    {
        var a = RandomSpd(n, n);
        var l = (double[])a.Clone();
        Assert.True(Cholesky.TryFactorLower(l, n));
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++) Assert.Equal(0, l[i * n + j]);
        var lt = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) lt[i * n + j] = l[j * n + i];
        AssertClose(a, Multiply(l, lt, n), 1e-12);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(96)]
    public void Inverse_TimesTheMatrix_IsTheIdentity(int n)
    {
        var a = RandomSpd(n, 100 + n);
        var inverse = Cholesky.TryInverse(a, n);
        Assert.NotNull(inverse);
        var identity = new double[n * n];
        for (var i = 0; i < n; i++) identity[i * n + i] = 1;
        AssertClose(identity, Multiply(a, inverse, n), 1e-10);
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) Assert.Equal(inverse[i * n + j], inverse[j * n + i]);
    }

    [Fact]
    public void UpperFactorOfInverse_IsWhatGptqNeeds()
    {
        const int n = 48;
        var a = RandomSpd(n, 7);
        var u = Cholesky.TryUpperFactorOfInverse(a, n);
        Assert.NotNull(u);
        for (var i = 0; i < n; i++)
        {
            Assert.True(u[i * n + i] > 0);
            for (var j = 0; j < i; j++) Assert.Equal(0, u[i * n + j]);
        }
        AssertClose(Cholesky.TryInverse(a, n)!, Multiply(u, u, n, transposeA: true), 1e-10); // Uᵀ U = A⁻¹
    }

    [Fact]
    public void NotPositiveDefinite_IsReported()
    {
        double[] indefinite = [1, 2, 2, 1]; // eigenvalues 3 and −1
        Assert.False(Cholesky.TryFactorLower((double[])indefinite.Clone(), 2));
        Assert.Null(Cholesky.TryInverse(indefinite, 2));
        Assert.Null(Cholesky.TryUpperFactorOfInverse(new double[9], 3)); // singular
    }

    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(5, 33, 7, false)]
    [InlineData(4, 64, 288, true)]
    [InlineData(13, 47, 50, true)]
    [InlineData(64, 100, 19, false)]
    public unsafe void Gemm_MatchesTheScalarLoops(int m, int n, int k, bool transposedA)
    {
        var a = GptqTestSupport.Gaussian(m * k, m + n);
        var b = GptqTestSupport.Gaussian(k * n, k);
        var initial = GptqTestSupport.Gaussian(m * n, 3);
        foreach (var accumulate in new[] { false, true })
        {
            var expected = (float[])initial.Clone();
            var actual = (float[])initial.Clone();
            // A is m × k; stored transposed (k × m) when transposedA.
            int rowStride = transposedA ? 1 : k, columnStride = transposedA ? m : 1;
            fixed (float* pa = a, pb = b, pe = expected, pc = actual)
            {
                Gemm.Scalar(pa, rowStride, columnStride, pb, n, pe, n, 0, m, 0, n, k, accumulate);
                Gemm.Multiply(pa, rowStride, columnStride, pb, n, pc, n, m, n, k, accumulate);
            }
            for (var i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public unsafe void Gemm_UpperOnly_FillsTheUpperTriangle()
    {
        const int n = 70, k = 40;
        var x = GptqTestSupport.Gaussian(k * n, 5);
        var full = new float[n * n];
        var upper = new float[n * n];
        fixed (float* px = x, pf = full, pu = upper)
        {
            Gemm.Multiply(px, 1, n, px, n, pf, n, n, n, k, accumulate: false);
            Gemm.Multiply(px, 1, n, px, n, pu, n, n, n, k, accumulate: false, upperOnly: true);
        }
        for (var i = 0; i < n; i++)
            for (var j = i; j < n; j++) Assert.Equal(full[i * n + j], upper[i * n + j]);
    }
}
