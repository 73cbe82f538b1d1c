using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Pruning;

/// <summary>
/// The compressed 2:4 int8 types (q8_gN_sparse24: kept codes + 2-bit positions + the dense type's fp16 scales) and their
/// kernel, at every vector width this machine accelerates (AVX-512 and AVX2 paths), against the scalar reference and
/// the dense q8 product of the same codes.
/// </summary>
public sealed unsafe class Q8Sparse24Tests
{
    public static TheoryData<string, int> FormatsAndWidths()
    {
        var data = new TheoryData<string, int>();
        foreach (var format in TensorFormats.All.Where(f => f.Sparse24 && f.Bits == 8))
            foreach (var width in VectorWidths.Accelerated)
                data.Add(format.Name, (int)width);
        return data;
    }

    private static TensorFormat Format(string name)
    {
        Assert.True(TensorTypeExtensions.TryParse(name, out var type));
        return TensorFormats.Of(type);
    }

    /// <summary>The dense q8 type of the same group size, quantized by round-to-nearest from a 2:4-pruned random matrix.</summary>
    private static PackedTensor DenseQ8(TensorFormat sparse, int rows, int cols, int seed, bool emptyGroups = false)
        => PackedTensor.QuantizeRtn(TensorFormats.Find(8, sparse.GroupSize, QuantScheme.Symmetric)!,
            Sparse24Tests.SparseMatrix(rows, cols, seed, emptyGroups), rows, cols);

    [Theory]
    [InlineData("q8_g32_sparse24")]
    [InlineData("q8_g64_sparse24")]
    [InlineData("q8_g128_sparse24")]
    public void Codec_KeepsTheDenseCodesAndScales_InAboutTwoThirdsOfTheBytes(string name)
    {
        var format = Format(name);
        const int rows = 5, cols = 288; // 288 = 4·64 + 32 = 2·128 + 32: ragged last groups
        var dense = DenseQ8(format, rows, cols, seed: 3, emptyGroups: true);
        Assert.Same(format, TensorFormats.Sparse24Of(dense.Format));
        var bytes = Sparse24Codec.Encode(format, dense);
        var groups = (cols + format.GroupSize - 1) / format.GroupSize;
        Assert.Equal(rows * (cols / 2 + cols / 8 + 2 * groups), bytes.Length);
        Assert.Equal(bytes.Length, format.ByteLength([rows, cols]));
        Assert.Equal(dense.Dequantize(), Sparse24Codec.Decode(format, bytes, rows, cols)); // lossless
        Assert.Equal(4 + 1 + 16.0 / format.GroupSize, format.BitsPerWeight);
        Assert.Null(format.ByteLength([rows, 24])); // rows are whole 32-input blocks, as the dense q8 types'

        var notSparse = PackedTensor.QuantizeRtn(dense.Format, Random(rows * cols, 4), rows, cols);
        Assert.Throws<ArgumentException>(() => Sparse24Codec.Encode(format, notSparse));
        Assert.Throws<ArgumentException>(() => Sparse24Codec.Encode(TensorFormats.Of(TensorType.Q8G32Sparse24 + (format.GroupSize == 32 ? 1 : 0)), dense)); // another group size
    }

    [Theory]
    [MemberData(nameof(FormatsAndWidths))]
    public void Kernel_MatchesTheReference_AndTheDenseQ8Product(string name, int bits)
    {
        var format = Format(name);
        var width = (VectorWidth)bits;
        foreach (var cols in new[] { 32, 64, 96, 160, 288, 768 })
        foreach (var rows in new[] { 1, 3, 17 })
        {
            var dense = DenseQ8(format, rows, cols, seed: rows * 1000 + cols);
            var bytes = Sparse24Codec.Encode(format, dense);
            var x = Random(cols, seed: cols + 1);
            var initial = Random(rows, 7);
            float[] reference = new float[rows], denseQ8 = new float[rows], actual = (float[])initial.Clone(), exact = new float[rows];
            int start = rows > 2 ? 1 : 0;
            fixed (byte* pd = dense.Data, ps = bytes)
            fixed (float* px = x, pr = reference, pq = denseQ8, pa = actual, pe = exact)
            {
                var w = new WeightMatrix(format.Type, ps, rows, cols);
                var d = new WeightMatrix(dense.Format.Type, pd, rows, cols);
                Sparse24MatVecReference.Rows(w, px, pr, 0, rows, accumulate: false);
                QuantizedMatVecReference.Rows(d, px, pq, 0, rows, accumulate: false);
                QuantizedMatVecReference.DequantizedRows(d, px, pe, 0, rows, accumulate: false);
                Linear.Rows(w, px, cols, pa, rows, start, rows, tokens: 1, accumulate: true, width);

                var row = new float[cols];
                fixed (float* pRow = row) Linear.Row(w, rows - 1, pRow);
                Assert.Equal(dense.Dequantize().AsSpan((rows - 1) * cols, cols).ToArray(), row);
            }
            var what = $"{name} {width} rows {rows} cols {cols}";
            Assert.True(Nmse(reference, denseQ8) < 1e-12, $"{what}: reference vs dense q8 NMSE {Nmse(reference, denseQ8):g3}");
            // The int16 activations: each off by at most half a step, max|x| / 32767 / 2, from the fp32 product.
            var weights = dense.Dequantize();
            for (var r = 0; r < rows; r++)
            {
                var bound = weights.AsSpan(r * cols, cols).ToArray().Sum(MathF.Abs) * x.Max(MathF.Abs) / 32767 + 1e-6f;
                Assert.True(MathF.Abs(reference[r] - exact[r]) <= bound, $"{what}: row {r} {reference[r]} vs fp32 {exact[r]}");
            }
            Assert.Equal(initial[..start], actual[..start]);
            var accumulated = actual[start..].Select((v, i) => v - initial[start + i]).ToArray();
            Assert.True(Nmse(accumulated, reference[start..]) < 1e-10, $"{what}: kernel NMSE {Nmse(accumulated, reference[start..]):g3}");
        }
    }
}
