using System.Numerics;
using System.Runtime.InteropServices;

namespace ModelSdk.Compression.LinearAlgebra;

/// <summary>
/// Cholesky factorization of symmetric positive-definite matrices and what GPTQ builds from it, in double precision.
/// Matrices are dense, row-major, n × n. The inner loops are dot products over contiguous rows (vectorized).
/// </summary>
public static class Cholesky
{
    /// <summary>
    /// In place: A = L Lᵀ with L lower triangular; on return the lower triangle holds L and the strict upper triangle is
    /// zero. Reads only the lower triangle of A. Returns false (A partly overwritten) when A is not positive definite.
    /// </summary>
    public static bool TryFactorLower(Span<double> a, int n)
    {
        CheckSquare(a.Length, n);
        for (var j = 0; j < n; j++)
        {
            var rowJ = a.Slice(j * n, n);
            var diagonal = rowJ[j] - Dot(rowJ[..j], rowJ[..j]);
            if (!(diagonal > 0) || !double.IsFinite(diagonal)) return false;
            var ljj = Math.Sqrt(diagonal);
            rowJ[j] = ljj;
            var inverse = 1 / ljj;
            for (var i = j + 1; i < n; i++)
            {
                var rowI = a.Slice(i * n, n);
                rowI[j] = (rowI[j] - Dot(rowI[..j], rowJ[..j])) * inverse;
            }
        }
        for (var i = 0; i < n; i++) a.Slice(i * n + i + 1, n - i - 1).Clear();
        return true;
    }

    /// <summary>A⁻¹ from the lower factor L of A (A = L Lᵀ): A⁻¹ = L⁻ᵀ L⁻¹. The result is full (both triangles).</summary>
    public static double[] InverseFromLower(ReadOnlySpan<double> lower, int n)
    {
        CheckSquare(lower.Length, n);
        // M = L⁻¹ (lower), row by row by forward substitution: row i of M solves L m = e_i column-wise; computed here
        // column by column of M, stored transposed (Mt[j, i] = M[i, j]) so every inner product runs over contiguous memory.
        var mt = new double[n * n]; // Mt is upper triangular
        for (var j = 0; j < n; j++)
        {
            // Column j of M: M[i, j] = 0 for i < j; M[j, j] = 1 / L[j, j]; M[i, j] = -(Σ_{k=j}^{i-1} L[i, k] M[k, j]) / L[i, i].
            var column = mt.AsSpan(j * n, n);
            column[j] = 1 / lower[j * n + j];
            for (var i = j + 1; i < n; i++)
                column[i] = -Dot(lower.Slice(i * n + j, i - j), column.Slice(j, i - j)) / lower[i * n + i];
        }
        // A⁻¹[i, j] = Σ_k M[k, i] M[k, j] = Σ_{k ≥ max(i, j)} Mt[i, k] Mt[j, k].
        var inverse = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                var value = Dot(mt.AsSpan(i * n + j, n - j), mt.AsSpan(j * n + j, n - j));
                inverse[i * n + j] = value;
                inverse[j * n + i] = value;
            }
        }
        return inverse;
    }

    /// <summary>A⁻¹ of a symmetric positive-definite A, or null when A is not positive definite.</summary>
    public static double[]? TryInverse(ReadOnlySpan<double> a, int n)
    {
        var factor = a.ToArray();
        return TryFactorLower(factor, n) ? InverseFromLower(factor, n) : null;
    }

    /// <summary>
    /// GPTQ's <c>cholesky(cholesky_inverse(cholesky(H)), upper=True)</c>: the upper triangular U with H⁻¹ = Uᵀ U, or null
    /// when H (or, through rounding, H⁻¹) is not positive definite. Row i of U, divided by U[i, i], is how the error made on
    /// column i propagates to the columns after it.
    /// </summary>
    public static double[]? TryUpperFactorOfInverse(ReadOnlySpan<double> h, int n)
    {
        var inverse = TryInverse(h, n);
        if (inverse is null || !TryFactorLower(inverse, n)) return null;
        // U = Lᵀ.
        var upper = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
                upper[j * n + i] = inverse[i * n + j];
        return upper;
    }

    /// <summary>Σ a[i] b[i], vectorized.</summary>
    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var length = a.Length;
        var i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && length >= 2 * Vector<double>.Count)
        {
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b[..length]);
            Vector<double> s0 = Vector<double>.Zero, s1 = Vector<double>.Zero;
            var v = 0;
            for (; v + 1 < va.Length; v += 2)
            {
                s0 += va[v] * vb[v];
                s1 += va[v + 1] * vb[v + 1];
            }
            if (v < va.Length) s0 += va[v] * vb[v];
            sum = Vector.Sum(s0 + s1);
            i = va.Length * Vector<double>.Count;
        }
        for (; i < length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static void CheckSquare(int length, int n)
    {
        if (n < 0 || (long)n * n != length) throw new ArgumentException($"Expected an {n} × {n} matrix ({(long)n * n} values), got {length} values.");
    }
}
