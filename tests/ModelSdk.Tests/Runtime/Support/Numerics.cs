namespace ModelSdk.Tests.Runtime.Support;

internal static class Numerics
{
    /// <summary>Normalized mean-squared error: Σ(a−b)² / Σb² (ggml's test-backend-ops measure); 0 when both are zero.</summary>
    public static double Nmse(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]), $"element {i} is {actual[i]}");
            var d = (double)actual[i] - expected[i];
            error += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return norm == 0 ? error : error / norm;
    }

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }
}
