namespace ModelSdk.Compression.LinearAlgebra;

/// <summary>
/// Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method (Golub &amp; Van Loan, §8.5): plane
/// rotations zero the off-diagonal entries sweep after sweep until they are negligible. Slower than tridiagonal QR
/// (a few n³ per sweep) but simple and accurate to rounding for every eigenvalue, small ones included; meant for the
/// Gram matrices of a layer (hundreds to a few thousand rows).
/// </summary>
public static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues in decreasing order and their unit eigenvectors as the columns of a row-major n × n matrix
    /// (<c>vectors[i · n + k]</c> is component i of eigenvector k). <paramref name="a"/> (row-major, symmetric) is not changed.
    /// </summary>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> a, int n, CancellationToken ct = default)
    {
        if (a.Length != (long)n * n) throw new ArgumentException($"Expected an {n} × {n} matrix.", nameof(a));
        var m = a.ToArray();
        var v = new double[n * n];
        for (var i = 0; i < n; i++) v[i * n + i] = 1;
        var scale = 0.0;
        foreach (var x in m) scale += x * x;
        for (var sweep = 0; sweep < 100; sweep++)
        {
            ct.ThrowIfCancellationRequested();
            var off = 0.0;
            for (var p = 0; p < n; p++)
                for (var q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
            if (off <= 1e-30 * scale) break;
            for (var p = 0; p < n - 1; p++)
                for (var q = p + 1; q < n; q++)
                    Rotate(m, v, n, p, q);
        }
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = m[i * n + i];
        var order = Enumerable.Range(0, n).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        var sortedValues = order.Select(i => values[i]).ToArray();
        var sortedVectors = new double[n * n];
        for (var k = 0; k < n; k++)
            for (var i = 0; i < n; i++) sortedVectors[i * n + k] = v[i * n + order[k]];
        return (sortedValues, sortedVectors);
    }

    /// <summary>One Jacobi rotation in the (p, q) plane that zeroes m[p, q] (Numerical Recipes' stable formulas).</summary>
    private static void Rotate(double[] m, double[] v, int n, int p, int q)
    {
        var apq = m[p * n + q];
        if (apq == 0) return;
        double app = m[p * n + p], aqq = m[q * n + q];
        var theta = (aqq - app) / (2 * apq);
        var t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
        var c = 1 / Math.Sqrt(t * t + 1);
        var s = t * c;
        for (var k = 0; k < n; k++)
        {
            // Columns p and q, then rows p and q (m stays symmetric).
            double mkp = m[k * n + p], mkq = m[k * n + q];
            m[k * n + p] = c * mkp - s * mkq;
            m[k * n + q] = s * mkp + c * mkq;
        }
        for (var k = 0; k < n; k++)
        {
            double mpk = m[p * n + k], mqk = m[q * n + k];
            m[p * n + k] = c * mpk - s * mqk;
            m[q * n + k] = s * mpk + c * mqk;
        }
        for (var k = 0; k < n; k++)
        {
            double vkp = v[k * n + p], vkq = v[k * n + q];
            v[k * n + p] = c * vkp - s * vkq;
            v[k * n + q] = s * vkp + c * vkq;
        }
    }
}
