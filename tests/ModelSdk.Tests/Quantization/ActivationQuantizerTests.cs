using System.Runtime.Intrinsics.X86;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;

namespace ModelSdk.Tests.Quantization;

/// <summary>
/// The activation quantizers in their AVX2 form give the scalar form's bits, on values with ties, zeros and outliers:
/// int16 per block (<see cref="QuantizedActivations"/>: codes, block scales, both kinds of group sums, every group size)
/// and int8 per token (<see cref="Int8Activations"/>, W8A8).
/// </summary>
public sealed unsafe class ActivationQuantizerTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    public void Avx2Form_GivesTheScalarFormsBits(int groupSize)
    {
        if (!Avx2.IsSupported) return; // nothing to compare: the scalar form is the only one
        const int cols = 32 * 23; // 736: a last group shorter than 64 and 128
        var random = new Random(groupSize);
        var x = new float[cols];
        for (var i = 0; i < cols; i++) x[i] = (float)(random.NextDouble() * 2 - 1) * (i % 97 == 0 ? 40 : 1);
        for (var i = 64; i < 96; i++) x[i] = 0; // an all-zero block: scale 0
        for (var i = 96; i < 128; i++) x[i] = (i % 5 - 2) * 0.5f; // exact halves of the step: ties to even
        var scalar = new QuantizedActivations();
        var vector = new QuantizedActivations();
        fixed (float* px = x)
        {
            scalar.Quantize(px, cols, groupSize, groupSums: true, vectorized: false);
            vector.Quantize(px, cols, groupSize, groupSums: true, vectorized: true);
        }
        for (var i = 0; i < cols; i++) Assert.Equal(scalar.Values[i], vector.Values[i]);
        for (var b = 0; b < cols / 32; b++) Assert.Equal(scalar.Scales[b], vector.Scales[b]);
        for (var g = 0; g < scalar.Groups; g++)
        {
            Assert.Equal(scalar.GroupQuantizedSums[g], vector.GroupQuantizedSums[g]);
            Assert.Equal(scalar.GroupSums[g], vector.GroupSums[g]);
        }
        Assert.Equal(32767, Enumerable.Range(0, 32).Max(i => Math.Abs((int)scalar.Values[i]))); // a block's largest value takes the full range
        Assert.Equal(0f, scalar.Scales[2]);
        Assert.NotEqual(0, scalar.Values[101]);
    }

    [Fact]
    public void GroupSums_AreOnlyComputedWhenAsked()
    {
        var x = Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray();
        var q = new QuantizedActivations();
        fixed (float* px = x)
        {
            q.Quantize(px, 64, 32, groupSums: true, vectorized: Avx2.IsSupported);
            Assert.Equal(x.Take(32).Sum(), q.GroupSums[0], 3);
            q.Quantize(px, 64, 32, groupSums: false, vectorized: Avx2.IsSupported);
            Assert.True(float.IsNaN(q.GroupSums[0]));
        }
    }

    [Theory]
    [InlineData(288)]
    [InlineData(800)]
    [InlineData(803)] // a tail that is not a whole vector
    public void Int8PerTokenAvx2Form_GivesTheScalarFormsBits(int cols)
    {
        if (!Avx2.IsSupported) return;
        var random = new Random(cols);
        var x = new float[cols];
        for (var i = 0; i < cols; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        x[cols / 3] = -7.5f; // the token's outlier sets the step
        for (var i = 0; i < 32; i++) x[i] = (i % 5 - 2) * 7.5f / 127 * 0.5f; // exact halves of the step: ties to even
        var scalar = new Int8Activations();
        var vector = new Int8Activations();
        fixed (float* px = x)
        {
            scalar.Quantize(px, cols, vectorized: false);
            vector.Quantize(px, cols, vectorized: true);
        }
        Assert.Equal(7.5f / 127, scalar.Scale);
        Assert.Equal(scalar.Scale, vector.Scale);
        Assert.Equal(-127, scalar.Values[cols / 3]);
        for (var i = 0; i < cols; i++) Assert.Equal(scalar.Values[i], vector.Values[i]);
    }
}
