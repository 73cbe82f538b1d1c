using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Tensors;
using ModelSdk.Tests.Runtime.Support;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Quantization;

/// <summary>
/// The fused dequantize-matvec kernels against the scalar reference by normalized MSE, for every quantized format and
/// fp16, at every vector width this machine accelerates (AVX-512 and AVX2 on the dev box), with odd shapes: a single
/// block, an odd number of blocks, ragged last groups, sub-ranges of rows.
/// </summary>
public sealed unsafe class QuantizedKernelTests
{
    private const double Tolerance = 1e-10;

    public static TheoryData<string, int> FormatsAndWidths()
    {
        var data = new TheoryData<string, int>();
        foreach (var format in TensorFormats.All.Where(f => f.IsPacked || f.Type == TensorType.F16))
        foreach (var width in VectorWidths.Accelerated)
            data.Add(format.Name, (int)width);
        return data;
    }

    /// <summary>The formats whose kernels take int16 activations (all but W8A8, see <see cref="Int8MatVecTests"/>).</summary>
    public static TheoryData<string, int> Int16FormatsAndWidths()
    {
        var data = new TheoryData<string, int>();
        foreach (var format in TensorFormats.All.Where(f => (f.IsPacked && !f.Int8Activations) || f.Type == TensorType.F16))
        foreach (var width in VectorWidths.Accelerated)
            data.Add(format.Name, (int)width);
        return data;
    }

    internal static byte[] Pack(TensorFormat format, float[] values, int rows, int cols)
    {
        if (format.IsPacked) return PackedTensor.QuantizeRtn(format, values, rows, cols).Data;
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), HalfBits.FromFloat(values[i]));
        return bytes;
    }

    [Theory]
    [MemberData(nameof(FormatsAndWidths))]
    public void MatchesReference(string name, int bits)
    {
        MatchesReferenceWith(name, bits);
        if (bits == 512 && name == "q8_row")
        {
            // W8A8 at 512 bits runs the AVX2 kernel by default (faster on Zen 4); the 512-bit one must be right too.
            lock (Int4Switch)
            {
                Int8MatVec.Uses512 = true;
                try { MatchesReferenceWith(name, bits); }
                finally { Int8MatVec.Uses512 = false; }
            }
        }
        if (bits != 512 || !name.StartsWith("q4", StringComparison.Ordinal)) return;
        // int4 at 512 bits runs the AVX2 kernel by default (faster on Zen 4); the 512-bit one must be right too.
        lock (Int4Switch)
        {
            QuantizedMatVec.Int4Uses512 = true;
            try { MatchesReferenceWith(name, bits); }
            finally { QuantizedMatVec.Int4Uses512 = false; }
        }
    }

    private static readonly object Int4Switch = new();

    /// <summary>
    /// The int4 and int8 kernels' multi-row steps (4 and 2 rows per pass over the activations) give every row the same
    /// bits as one row at a time, on row ranges that leave a 2-row and a 1-row remainder, so results do not depend on the split.
    /// </summary>
    [Theory]
    [MemberData(nameof(FormatsAndWidths))]
    public void RowSteps_GiveTheSameBitsAsOneRowAtATime(string name, int bits)
    {
        var grouped = name.StartsWith("q4", StringComparison.Ordinal) || name.StartsWith("q8_g", StringComparison.Ordinal);
        if (!grouped || name.Contains("sparse", StringComparison.Ordinal)) return;
        TensorTypeExtensions.TryParse(name, out var type);
        var format = TensorFormats.Of(type);
        foreach (var cols in new[] { 32, 96, 288, 768 })
        {
            const int rows = 16;
            var bytes = Pack(format, Random(rows * cols, cols + 5, 0.05f), rows, cols);
            var x = Random(cols, cols + 9);
            var results = new Dictionary<int, float[]>();
            lock (Int4Switch)
            {
                try
                {
                    foreach (var step in new[] { 1, 2, 4 })
                    {
                        QuantizedMatVec.RowsPerStep = step;
                        var y = Random(rows, 3);
                        fixed (byte* pw = bytes)
                        fixed (float* px = x, py = y)
                            QuantizedMatVec.Rows(new WeightMatrix(type, pw, rows, cols), px, py, 1, 1 + 4 + 4 + 2 + 1, true, (VectorWidth)bits);
                        results[step] = y;
                    }
                }
                finally { QuantizedMatVec.RowsPerStep = 4; }
            }
            Assert.Equal(results[1], results[2]);
            Assert.Equal(results[1], results[4]);
            Assert.NotEqual(Random(rows, 3), results[1]);
        }
    }

    private static void MatchesReferenceWith(string name, int bits)
    {
        TensorTypeExtensions.TryParse(name, out var type);
        var format = TensorFormats.Of(type);
        var width = (VectorWidth)bits;
        var sizes = format.IsPacked ? new[] { 32, 64, 96, 160, 288, 768 } : new[] { 1, 7, 8, 15, 16, 17, 31, 32, 33, 288, 769 };
        foreach (var cols in sizes)
        foreach (var rows in new[] { 1, 3, 17 })
        foreach (var accumulate in new[] { false, true })
        {
            var bytes = Pack(format, Random(rows * cols, rows * 1000 + cols, 0.05f), rows, cols);
            var x = Random(cols, cols);
            var initial = Random(rows, 7);
            var expected = (float[])initial.Clone();
            var actual = (float[])initial.Clone();
            int start = rows > 2 ? 1 : 0, end = rows;
            fixed (byte* pw = bytes)
            fixed (float* px = x, pe = expected, pa = actual)
            {
                var w = new WeightMatrix(type, pw, rows, cols);
                QuantizedMatVecReference.Rows(w, px, pe, start, end, accumulate);
                QuantizedMatVec.Rows(w, px, pa, start, end, accumulate, width);
            }
            var nmse = Nmse(actual, expected);
            Assert.True(nmse < Tolerance, $"{name} {width} rows {rows} cols {cols} accumulate {accumulate}: NMSE {nmse}");
            Assert.Equal(initial[..start], actual[..start]);
        }
    }

    [Theory]
    [MemberData(nameof(Int16FormatsAndWidths))]
    public void Int16Activations_StayCloseToTheExactFp32Product(string name, int bits)
    {
        TensorTypeExtensions.TryParse(name, out var type);
        const int rows = 64, cols = 288;
        var bytes = Pack(TensorFormats.Of(type), Random(rows * cols, 3, 0.05f), rows, cols);
        var x = Random(cols, 4);
        x[17] = 6f; // an activation outlier, as real models have
        var exact = new float[rows];
        var actual = new float[rows];
        fixed (byte* pw = bytes)
        fixed (float* px = x, pe = exact, pa = actual)
        {
            var w = new WeightMatrix(type, pw, rows, cols);
            QuantizedMatVecReference.DequantizedRows(w, px, pe, 0, rows, false);
            QuantizedMatVec.Rows(w, px, pa, 0, rows, false, (VectorWidth)bits);
        }
        // Per-block int16 activations cost about (1/32767)²/3 of relative energy per block; fp16 is exact up to rounding.
        Assert.True(Nmse(actual, exact) < 1e-8, $"NMSE {Nmse(actual, exact)}");
    }

    [Theory]
    [MemberData(nameof(FormatsAndWidths))]
    public void Linear_BatchedTokens_AreTheSingleTokenResults(string name, int bits)
    {
        TensorTypeExtensions.TryParse(name, out var type);
        const int rows = 9, cols = 96, tokens = 3, ldx = cols + 5, ldy = rows + 3;
        var bytes = Pack(TensorFormats.Of(type), Random(rows * cols, 5, 0.05f), rows, cols);
        var x = Random(tokens * ldx, 6);
        var batched = new float[tokens * ldy];
        var single = new float[tokens * ldy];
        fixed (byte* pw = bytes)
        fixed (float* px = x, pb = batched, ps = single)
        {
            var w = new WeightMatrix(type, pw, rows, cols);
            Linear.Rows(w, px, ldx, pb, ldy, 0, rows, tokens, false, (VectorWidth)bits);
            for (var t = 0; t < tokens; t++) QuantizedMatVec.Rows(w, px + t * ldx, ps + t * ldy, 0, rows, false, (VectorWidth)bits);
        }
        Assert.Equal(single, batched);
    }

    [Fact]
    public void EmbeddingLookup_DequantizesTheRow()
    {
        var format = TensorFormats.Of(TensorType.Q4G64Asym);
        var values = Random(4 * 288, 9, 0.1f);
        var packed = PackedTensor.QuantizeRtn(format, values, 4, 288);
        var expected = new float[288];
        packed.DequantizeRow(2, expected);
        var actual = new float[288];
        fixed (byte* pw = packed.Data)
        fixed (float* pa = actual)
            Linear.Row(new WeightMatrix(format.Type, pw, 4, 288), 2, pa);
        Assert.Equal(expected, actual);
    }
}
