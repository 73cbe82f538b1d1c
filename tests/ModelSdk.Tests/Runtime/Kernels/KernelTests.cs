using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tests.Runtime.Support;
using static ModelSdk.Tests.Runtime.Support.Numerics;

namespace ModelSdk.Tests.Runtime.Kernels;

/// <summary>
/// Every fast kernel against its scalar reference, by normalized MSE, at every vector width this machine accelerates
/// (on an AVX-512 machine that is the AVX-512, AVX2 and 128-bit paths), with sizes around each vector length.
/// </summary>
public sealed unsafe class KernelTests
{
    private const double Tolerance = 1e-10;

    /// <summary>Kernels with a vectorized exp (a few ulp from MathF.Exp) and long reductions.</summary>
    private const double ExpTolerance = 1e-9;

    /// <summary>Widths as their bit counts (0 = scalar): xunit's theory parameters must be public types.</summary>
    public static TheoryData<int> Widths()
    {
        var data = new TheoryData<int>();
        foreach (var width in VectorWidths.Accelerated) data.Add((int)width);
        return data;
    }

    private static readonly int[] Sizes = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 127, 288, 769];

    [Fact]
    public void ThisMachine_TestsTheWidthsItAccelerates()
    {
        Assert.Contains(VectorWidth.Scalar, VectorWidths.Accelerated);
        Assert.Equal(VectorWidths.Accelerated[0], VectorWidths.Best);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Assert.Contains(VectorWidth.V512, VectorWidths.Accelerated);
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) Assert.Contains(VectorWidth.V256, VectorWidths.Accelerated);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MatVec_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var cols in Sizes)
        foreach (var rows in new[] { 1, 3, 4, 5, 9, 33 })
        foreach (var accumulate in new[] { false, true })
        {
            var w = Random(rows * cols, rows * 1000 + cols);
            var x = Random(cols, cols);
            var initial = Random(rows, 7);
            var expected = (float[])initial.Clone();
            var actual = (float[])initial.Clone();
            // A sub-range of rows, as the worker team hands out, must touch exactly those rows.
            int start = rows > 2 ? 1 : 0, end = rows;
            fixed (float* pw = w, px = x, pe = expected, pa = actual)
            {
                MatVecReference.Rows(pw, px, pe, cols, start, end, accumulate);
                MatVec.Rows(pw, px, pa, cols, start, end, accumulate, width);
            }
            Assert.True(Nmse(actual, expected) < Tolerance, $"rows {rows} cols {cols} accumulate {accumulate}: NMSE {Nmse(actual, expected)}");
            Assert.Equal(initial[..start], actual[..start]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MatMat_IsMatVecPerToken_BitForBit(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var cols in new[] { 1, 5, 16, 17, 63, 64, 65, 100, 288 })
        foreach (var tokens in new[] { 1, 2, 3, 4, 5, 7, 9 })
        foreach (var accumulate in new[] { false, true })
        {
            const int rows = 7;
            int ldx = cols + 3, ldy = rows + 2; // strided rows, as the batch buffers are
            var w = Random(rows * cols, cols * 31 + tokens);
            var x = Random(tokens * ldx, tokens);
            var initial = Random(tokens * ldy, 11);
            var batched = (float[])initial.Clone();
            var perToken = (float[])initial.Clone();
            var reference = (float[])initial.Clone();
            fixed (float* pw = w, px = x, pb = batched, pt = perToken, pr = reference)
            {
                MatMat.Rows(pw, px, ldx, pb, ldy, cols, 1, rows, tokens, accumulate, width);
                for (var t = 0; t < tokens; t++)
                {
                    MatVec.Rows(pw, px + t * ldx, pt + t * ldy, cols, 1, rows, accumulate, width);
                    MatVecReference.Rows(pw, px + t * ldx, pr + t * ldy, cols, 1, rows, accumulate);
                }
            }
            Assert.Equal(perToken, batched);
            Assert.True(Nmse(batched, reference) < Tolerance, $"cols {cols} tokens {tokens}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void RmsNorm_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var size in Sizes)
        {
            var x = Random(size, size, 3f);
            var weight = Random(size, size + 1);
            var expected = new float[size];
            var actual = new float[size];
            var inPlace = (float[])x.Clone();
            fixed (float* px = x, pw = weight, pe = expected, pa = actual, pi = inPlace)
            {
                RmsNormReference.Apply(pe, px, pw, size, 1e-5f);
                RmsNorm.Apply(pa, px, pw, size, 1e-5f, width);
                RmsNorm.Apply(pi, pi, pw, size, 1e-5f, width);
            }
            Assert.True(Nmse(actual, expected) < Tolerance, $"size {size}");
            Assert.Equal(actual, inPlace);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Softmax_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var size in Sizes.Append(32000))
        {
            var expected = Random(size, size, 20f);
            var actual = (float[])expected.Clone();
            fixed (float* pe = expected, pa = actual)
            {
                SoftmaxReference.Apply(pe, size);
                Softmax.Apply(pa, size, width);
            }
            Assert.True(Nmse(actual, expected) < ExpTolerance, $"size {size}: NMSE {Nmse(actual, expected)}");
            Assert.Equal(1.0, actual.Sum(v => (double)v), 4);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SwiGlu_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var size in Sizes)
        {
            var gate = Random(size, size, 8f);
            var up = Random(size, size + 5);
            var expected = (float[])gate.Clone();
            var actual = (float[])gate.Clone();
            var start = size > 3 ? 3 : 0;
            fixed (float* pe = expected, pa = actual, pu = up)
            {
                SwiGluReference.Apply(pe, pu, start, size);
                SwiGlu.Apply(pa, pu, start, size, width);
            }
            Assert.True(Nmse(actual, expected) < Tolerance, $"size {size}");
            Assert.Equal(gate[..start], actual[..start]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Argmax_IsExactlyTheReferenceIndex(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var size in Sizes.Append(32000))
        {
            var x = Random(size, size);
            fixed (float* p = x) Assert.Equal(ArgmaxReference.Find(p, size), Argmax.Find(p, size, width));

            // Ties: the first of equal maxima wins, as in run.c.
            if (size >= 3)
            {
                x[size - 1] = 5f;
                x[size / 2] = 5f;
                fixed (float* p = x)
                {
                    Assert.Equal(size / 2, ArgmaxReference.Find(p, size));
                    Assert.Equal(size / 2, Argmax.Find(p, size, width));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Rope_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var headSize in new[] { 2, 6, 10, 16, 48, 64 })
        foreach (var heads in new[] { 1, 3 })
        foreach (var pos in new[] { 0, 1, 7, 30 })
        {
            using var table = new RopeTable(32, headSize, 10000f);
            var size = heads * headSize;
            var expected = Random(size, size + pos);
            var actual = (float[])expected.Clone();
            fixed (float* pe = expected, pa = actual)
            {
                RopeReference.Apply(pe, size, headSize, pos, 10000f);
                // In two pieces, as two chunks of the QKV region would (split on an even index).
                var middle = size / 4 * 2;
                Rope.Apply(pa, 0, middle, headSize, table.Cos(pos), table.SinSigned(pos), width);
                Rope.Apply(pa, middle, size, headSize, table.Cos(pos), table.SinSigned(pos), width);
            }
            Assert.True(Nmse(actual, expected) < Tolerance, $"head size {headSize}, heads {heads}, pos {pos}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Attention_MatchesReference(int bits)
    {
        var width = (VectorWidth)bits;
        foreach (var headSize in new[] { 2, 6, 20, 48, 64 })
        foreach (var positions in new[] { 1, 2, 5, 17, 33, 100 })
        {
            var rowStride = headSize * 3; // the head's slice of a wider KV row, as with several kv heads
            var q = Random(headSize, headSize);
            var keys = Random(positions * rowStride, positions + 1);
            var values = Random(positions * rowStride, positions + 2);
            // The fast kernel reads keys transposed ([dim][position], positions contiguous) with room for a longer context.
            var keyStride = positions + 5;
            var keysT = new float[headSize * keyStride];
            for (var t = 0; t < positions; t++)
            for (var d = 0; d < headSize; d++)
                keysT[d * keyStride + t] = keys[t * rowStride + headSize + d];
            var expected = new float[headSize];
            var actual = new float[headSize];
            var scoresE = new float[positions];
            var scoresA = new float[positions];
            fixed (float* pq = q, pk = keys, pkt = keysT, pv = values, pe = expected, pa = actual, se = scoresE, sa = scoresA)
            {
                AttentionReference.Head(pq, pk + headSize, pv + headSize, rowStride, headSize, positions, se, pe);
                Attention.Head(pq, pkt, keyStride, pv + headSize, rowStride, headSize, positions, sa, pa, width);
            }
            Assert.True(Nmse(actual, expected) < Tolerance, $"head size {headSize}, positions {positions}");
            Assert.True(Nmse(scoresA, scoresE) < Tolerance);
        }
    }
}
