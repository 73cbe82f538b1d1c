using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Quantization;

/// <summary>
/// The W8A8 kernel (<see cref="Int8MatVec"/>, q8_row weights): genuinely int8 activations per token, an exact int32 dot
/// product scaled by the row's and the token's scales, on every accelerated path (AVX-512BW and AVX2) against numbers
/// computed here from the definition, and its distance to the exact fp32 product. (The kernel-vs-reference NMSE loop over
/// every format and width, odd shapes included, is <see cref="QuantizedKernelTests.MatchesReference"/>.)
/// </summary>
public sealed unsafe class Int8MatVecTests
{
    private static readonly TensorFormat Q8Row = TensorFormats.Of(TensorType.Q8Row);

    /// <summary>Every accelerated width, and at 512 bits both the default AVX2 kernel and the 512-bit one (Int8MatVec.Uses512).</summary>
    public static TheoryData<int, bool> Paths()
    {
        var data = new TheoryData<int, bool>();
        foreach (var width in VectorWidths.Accelerated) data.Add((int)width, false);
        if (VectorWidths.Accelerated.Contains(VectorWidth.V512)) data.Add((int)VectorWidth.V512, true);
        return data;
    }

    [Fact]
    public void Activations_AreInt8_WithOneScalePerToken()
    {
        var x = Random(288, 1);
        x[100] = -9f; // an outlier sets the step for every channel of the token
        fixed (float* px = x)
        {
            var a = Int8Activations.For(px, x.Length);
            Assert.Equal(9f / 127, a.Scale);
            Assert.Equal(-127, a.Values[100]);
            for (var i = 0; i < x.Length; i++)
            {
                Assert.InRange(a.Values[i], -127, 127);
                Assert.Equal((sbyte)MathF.Round(x[i] / a.Scale), a.Values[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Kernel_IsTheExactIntegerDot_TimesRowScale_TimesTokenScale(int bits, bool uses512)
    {
        const int rows = 37, cols = 800; // 800 = 12·64 + 32: the kernels' 64-value loop and their 32-value tail
        var weights = Random(rows * cols, 2, 0.2f);
        weights[5] = 3f; // a large weight in row 0
        var packed = PackedTensor.QuantizeRtn(Q8Row, weights, rows, cols);
        var x = Random(cols, 3);
        var actual = new float[rows];
        lock (Int8Switch)
        {
            Int8MatVec.Uses512 = uses512;
            try
            {
                fixed (byte* pw = packed.Data)
                fixed (float* px = x, pa = actual)
                    Int8MatVec.Rows(new WeightMatrix(TensorType.Q8Row, pw, rows, cols), px, pa, 0, rows, false, (VectorWidth)bits);
            }
            finally { Int8MatVec.Uses512 = false; }
        }

        var amax = x.Max(MathF.Abs);
        var scale = amax / 127f;
        for (var r = 0; r < rows; r++)
        {
            var dot = 0;
            for (var c = 0; c < cols; c++) dot += packed.GetCode(r, c) * (int)MathF.Round(x[c] * (1f / scale));
            Assert.Equal(dot * (packed.GetParams(r, 0).Scale * scale), actual[r]);
        }
    }

    private static readonly object Int8Switch = new();

    public static TheoryData<int> Widths() => [.. VectorWidths.Accelerated.Select(w => (int)w)];

    [Theory]
    [MemberData(nameof(Widths))]
    public void W8A8_StaysWithinPerTokenInt8Error_OfTheExactFp32Product(int bits)
    {
        const int rows = 64, cols = 288;
        var bytes = QuantizedKernelTests.Pack(Q8Row, Random(rows * cols, 3, 0.05f), rows, cols);
        var x = Random(cols, 4);
        var exact = new float[rows];
        var actual = new float[rows];
        fixed (byte* pw = bytes)
        fixed (float* px = x, pe = exact, pa = actual)
        {
            var w = new WeightMatrix(TensorType.Q8Row, pw, rows, cols);
            QuantizedMatVecReference.DequantizedRows(w, px, pe, 0, rows, false);
            QuantizedMatVec.Rows(w, px, pa, 0, rows, false, (VectorWidth)bits);
        }
        // Rounding x to steps of max|x|/127 costs about (1/127)²/3 of x's energy per value: NMSE ≈ 2e-5 for uniform x.
        // Far above int16's 1e-10: the activations really are int8.
        var nmse = Nmse(actual, exact);
        Assert.InRange(nmse, 1e-7, 1e-4);
    }
}
