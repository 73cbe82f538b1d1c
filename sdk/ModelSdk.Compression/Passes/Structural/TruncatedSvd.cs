using ModelSdk.Compression.LinearAlgebra;

namespace ModelSdk.Compression.Passes.Structural;

/// <summary>
/// The best rank-r approximation of a matrix in the Frobenius norm (Eckart–Young): its top r singular triplets, found from
/// the eigen-decomposition of the smaller Gram matrix in double (WᵀW when cols ≤ rows, else WWᵀ). The factors split each
/// singular value evenly, B = U·√Σ and A = √Σ·Vᵀ, so both have the same scale (better conditioned to train).
/// </summary>
public static class TruncatedSvd
{
    /// <summary>Singular values of a row-major [rows, cols] matrix, largest first (min(rows, cols) of them).</summary>
    public static double[] SingularValues(float[] w, int rows, int cols, CancellationToken ct = default)
        => Decompose(w, rows, cols, ct).Values.Select(v => Math.Sqrt(Math.Max(v, 0))).ToArray();

    /// <summary>
    /// The rank-<paramref name="rank"/> factors of a row-major [rows, cols] matrix and the singular values it found
    /// (all min(rows, cols) of them, largest first).
    /// </summary>
    public static (LowRankFactors Factors, double[] SingularValues) Factor(float[] w, int rows, int cols, int rank, CancellationToken ct = default)
        => Factor(w, rows, cols, _ => rank, ct);

    /// <summary>As <see cref="Factor(float[], int, int, int, CancellationToken)"/> with the rank chosen from the singular values.</summary>
    public static (LowRankFactors Factors, double[] SingularValues) Factor(float[] w, int rows, int cols, Func<double[], int> chooseRank, CancellationToken ct = default)
    {
        var (values, vectors) = Decompose(w, rows, cols, ct);
        var n = values.Length;
        var sigma = values.Select(v => Math.Sqrt(Math.Max(v, 0))).ToArray();
        var rank = chooseRank(sigma);
        if (rank < 1 || rank > n) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be in 1..{n}.");
        var b = new float[(long)rows * rank];
        var a = new float[(long)rank * cols];
        var byColumns = cols <= rows; // the eigenvectors are V (right singular vectors), else U
        for (var k = 0; k < rank; k++)
        {
            // u_k = W v_k / σ_k (or v_k = Wᵀ u_k / σ_k); a zero singular value contributes nothing.
            var root = Math.Sqrt(sigma[k]);
            var inverse = sigma[k] > 0 ? 1 / sigma[k] : 0;
            if (byColumns)
            {
                for (var c = 0; c < cols; c++) a[(long)k * cols + c] = (float)(root * vectors[c * n + k]);
                for (var r = 0; r < rows; r++)
                {
                    double dot = 0;
                    for (var c = 0; c < cols; c++) dot += w[(long)r * cols + c] * vectors[c * n + k];
                    b[(long)r * rank + k] = (float)(root * dot * inverse);
                }
            }
            else
            {
                for (var r = 0; r < rows; r++) b[(long)r * rank + k] = (float)(root * vectors[r * n + k]);
                var column = new double[cols];
                for (var r = 0; r < rows; r++)
                {
                    var u = vectors[r * n + k];
                    for (var c = 0; c < cols; c++) column[c] += u * w[(long)r * cols + c];
                }
                for (var c = 0; c < cols; c++) a[(long)k * cols + c] = (float)(root * column[c] * inverse);
            }
        }
        return (new LowRankFactors(rows, cols, rank, b, a), sigma);
    }

    /// <summary>
    /// Activation-aware factors (SVD-LLM's whitening, Wang et al., 2024): the rank-r B·A that minimizes the error of the
    /// outputs on the calibration inputs, ‖(W − B·A) Xᵀ‖_F, rather than of the weights. With G = XᵀX + λI = L Lᵀ
    /// (<paramref name="gram"/> [cols, cols], λ = <paramref name="damping"/> · mean diag, for a positive-definite G) that
    /// error is ‖(W − B·A) L‖_F, so the truncated SVD of W·L gives B and A·L; A is recovered by a triangular solve.
    /// The singular values returned are those of W·L (their energy is that of the outputs).
    /// </summary>
    public static (LowRankFactors Factors, double[] SingularValues) FactorWhitened(float[] w, int rows, int cols, double[] gram, Func<double[], int> chooseRank,
        double damping = 0.01, CancellationToken ct = default)
    {
        if (gram.LongLength != (long)cols * cols) throw new ArgumentException($"The Gram matrix must be [{cols}, {cols}].", nameof(gram));
        var lower = (double[])gram.Clone();
        var mean = Enumerable.Range(0, cols).Average(i => gram[i * cols + i]);
        for (var lambda = damping * Math.Max(mean, 1e-12); ; lambda *= 10)
        {
            Array.Copy(gram, lower, gram.Length);
            for (var i = 0; i < cols; i++) lower[i * cols + i] += lambda;
            if (Cholesky.TryFactorLower(lower, cols)) break;
        }
        // M = W · L in double, then its truncated SVD M ≈ B · A'.
        var product = DenseDouble.Multiply(Array.ConvertAll(w, x => (double)x), lower, rows, cols, cols);
        var (factors, sigma) = Factor(Array.ConvertAll(product, x => (float)x), rows, cols, chooseRank, ct);
        // A · L = A'  ⇔  row by row, a_j = (a'_j − Σ_{i>j} a_i L[i, j]) / L[j, j], from the last column down.
        var a = new float[factors.A.Length];
        var row = new double[cols];
        for (var k = 0; k < factors.Rank; k++)
        {
            for (var j = cols - 1; j >= 0; j--)
            {
                double sum = factors.A[(long)k * cols + j];
                for (var i = j + 1; i < cols; i++) sum -= row[i] * lower[i * cols + j];
                row[j] = sum / lower[j * cols + j];
            }
            for (var j = 0; j < cols; j++) a[(long)k * cols + j] = (float)row[j];
        }
        return (new LowRankFactors(rows, cols, factors.Rank, factors.B, a), sigma);
    }

    /// <summary>The smallest rank whose singular values hold at least <paramref name="energy"/> of Σσ².</summary>
    public static int RankForEnergy(double[] singularValues, double energy)
    {
        var total = singularValues.Sum(s => s * s);
        double kept = 0;
        for (var r = 0; r < singularValues.Length; r++)
        {
            kept += singularValues[r] * singularValues[r];
            if (kept >= energy * total) return r + 1;
        }
        return singularValues.Length;
    }

    private static (double[] Values, double[] Vectors) Decompose(float[] w, int rows, int cols, CancellationToken ct)
    {
        if (w.LongLength != (long)rows * cols) throw new ArgumentException($"Expected a [{rows}, {cols}] matrix.", nameof(w));
        var wide = Array.ConvertAll(w, x => (double)x);
        var transposed = new double[wide.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) transposed[(long)c * rows + r] = wide[(long)r * cols + c];
        // Gram of the smaller side: WᵀW [cols, cols] = transposed · W, or WWᵀ [rows, rows] = W · transposed.
        var gram = cols <= rows
            ? DenseDouble.Multiply(transposed, wide, cols, rows, cols)
            : DenseDouble.Multiply(wide, transposed, rows, cols, rows);
        return SymmetricEigen.Decompose(gram, Math.Min(rows, cols), ct);
    }
}
