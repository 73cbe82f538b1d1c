using System.Numerics;

namespace ModelSdk.Compression.LinearAlgebra;

/// <summary>Small dense double-precision kernels (row-major), vectorized with <see cref="Vector{T}"/>.</summary>
public static class DenseDouble
{
    /// <summary>y += a · x.</summary>
    public static void Axpy(Span<double> y, double a, ReadOnlySpan<double> x)
    {
        if (x.Length < y.Length) throw new ArgumentException("x is shorter than y.", nameof(x));
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<double>.Count;
            var va = new Vector<double>(a);
            for (; i + width <= y.Length; i += width)
                (new Vector<double>(y[i..]) + va * new Vector<double>(x[i..])).CopyTo(y[i..]);
        }
        for (; i < y.Length; i++) y[i] += a * x[i];
    }

    /// <summary>
    /// C = A · B with A [m × k], B [k × n]; rows of C in parallel on up to <paramref name="threads"/> threads (each row is
    /// a sum of scaled rows of B in a fixed order, so the result does not depend on the thread count).
    /// </summary>
    public static double[] Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int m, int k, int n, int? threads = null)
    {
        if (a.Length != (long)m * k || b.Length != (long)k * n) throw new ArgumentException("Shapes do not match.");
        var aa = a.ToArray();
        var bb = b.ToArray();
        var c = new double[m * n];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads ?? Environment.ProcessorCount) }, i =>
        {
            var row = c.AsSpan(i * n, n);
            for (var p = 0; p < k; p++)
            {
                var aip = aa[i * k + p];
                if (aip != 0) Axpy(row, aip, bb.AsSpan(p * n, n));
            }
        });
        return c;
    }
}
