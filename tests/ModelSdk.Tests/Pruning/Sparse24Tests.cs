using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Pruning;

/// <summary>The compressed 2:4 layout (kept values + 2-bit positions) and its matvec kernel against the dense product.</summary>
public sealed unsafe class Sparse24Tests
{
    public static TheoryData<string, int> FormatsAndWidths()
    {
        var data = new TheoryData<string, int>();
        foreach (var format in TensorFormats.All.Where(f => f.Sparse24 && f.Scheme == QuantScheme.None)) // int8: Q8Sparse24Tests
            foreach (var width in VectorWidths.Accelerated)
                data.Add(format.Name, (int)width);
        return data;
    }

    /// <summary>A random [rows, cols] matrix pruned 2:4 by magnitude; with <paramref name="emptyGroups"/> some groups keep fewer than 2 non-zeros.</summary>
    internal static float[] SparseMatrix(int rows, int cols, int seed, bool emptyGroups = false)
    {
        var values = Random(rows * cols, seed);
        for (var r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * cols, cols);
            var scores = new double[cols];
            for (var c = 0; c < cols; c++) scores[c] = Math.Abs(row[c]);
            PruningMask.Apply(row, scores, SparsityPattern.SemiStructured(2, 4));
            if (emptyGroups) row[..4].Clear();
        }
        return values;
    }

    [Theory]
    [InlineData("f32_sparse24")]
    [InlineData("f16_sparse24")]
    public void Codec_RoundTrips_AndStoresHalfTheValuesPlusTwoBitsPerValue(string name)
    {
        TensorTypeExtensions.TryParse(name, out var type);
        var format = TensorFormats.Of(type);
        const int rows = 5, cols = 24;
        var dense = SparseMatrix(rows, cols, seed: 1, emptyGroups: true);
        var bytes = Sparse24Codec.Encode(format, dense, rows, cols);
        Assert.Equal(rows * (cols / 2 * format.Bits / 8 + cols / 8), bytes.Length);
        Assert.Equal(bytes.Length, format.ByteLength([rows, cols]));
        var expected = format.Bits == 16 ? dense.Select(HalfBits.Round).ToArray() : dense;
        Assert.Equal(expected, Sparse24Codec.Decode(format, bytes, rows, cols));
        Assert.Null(format.ByteLength([rows, 20])); // rows must be whole bytes of positions

        var notSparse = (float[])dense.Clone();
        notSparse[0] = notSparse[1] = notSparse[2] = 1;
        Assert.False(Sparse24Codec.IsSparse24(notSparse, cols));
        Assert.Throws<ArgumentException>(() => Sparse24Codec.Encode(format, notSparse, rows, cols));
    }

    [Theory]
    [MemberData(nameof(FormatsAndWidths))]
    public void Kernel_MatchesTheReference_AndTheDenseProduct(string name, int bits)
    {
        TensorTypeExtensions.TryParse(name, out var type);
        var format = TensorFormats.Of(type);
        foreach (var cols in new[] { 8, 16, 24, 40, 288, 768 })
        {
            const int rows = 19;
            var dense = SparseMatrix(rows, cols, seed: cols);
            var x = Random(cols, seed: cols + 1);
            var bytes = Sparse24Codec.Encode(format, dense, rows, cols);
            var decoded = Sparse24Codec.Decode(format, bytes, rows, cols);
            var expected = new float[rows];
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++) expected[r] += decoded[r * cols + c] * x[c];
            var reference = new float[rows];
            var actual = new float[rows];
            fixed (byte* data = bytes)
            fixed (float* px = x, pr = reference, pa = actual)
            {
                var w = new WeightMatrix(type, data, rows, cols);
                Sparse24MatVecReference.Rows(w, px, pr, 0, rows, accumulate: false);
                Sparse24MatVec.Rows(w, px, pa, 0, rows, accumulate: false, (VectorWidth)bits);
                // A sub-range of rows, accumulating, leaves the others alone.
                var partial = (float[])actual.Clone();
                fixed (float* pp = partial) Sparse24MatVec.Rows(w, px, pp, 3, 7, accumulate: true, (VectorWidth)bits);
                for (var r = 0; r < rows; r++) Assert.Equal(r is >= 3 and < 7 ? 2 * actual[r] : actual[r], partial[r], 1e-4f * (1 + Math.Abs(actual[r])));

                var row = new float[cols];
                fixed (float* pRow = row) Linear.Row(w, 5, pRow);
                Assert.Equal(decoded.AsSpan(5 * cols, cols).ToArray(), row);
            }
            Assert.True(Nmse(reference, expected) < 1e-10, $"reference, cols {cols}");
            Assert.True(Nmse(actual, expected) < 1e-10, $"{name} at {bits} bits, cols {cols}: NMSE {Nmse(actual, expected):g3}");
        }
    }
}
