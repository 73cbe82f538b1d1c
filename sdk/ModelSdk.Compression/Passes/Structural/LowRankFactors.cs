using ModelSdk.Compression.LinearAlgebra;

namespace ModelSdk.Compression.Passes.Structural;

/// <summary>
/// A [rows, cols] matrix as the product B · A of two thin factors, B [rows, rank] and A [rank, cols] (row-major fp32):
/// rank · (rows + cols) values instead of rows · cols.
/// </summary>
public sealed record LowRankFactors
{
    public LowRankFactors(int rows, int cols, int rank, float[] b, float[] a)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (b.LongLength != (long)rows * rank || a.LongLength != (long)rank * cols)
            throw new ArgumentException($"Factors of a [{rows}, {cols}] matrix at rank {rank} must be [{rows}, {rank}] and [{rank}, {cols}].");
        (Rows, Cols, Rank, B, A) = (rows, cols, rank, b, a);
    }

    public int Rows { get; }

    public int Cols { get; }

    public int Rank { get; }

    /// <summary>[Rows, Rank], row-major.</summary>
    public float[] B { get; }

    /// <summary>[Rank, Cols], row-major.</summary>
    public float[] A { get; }

    /// <summary>Values the two factors hold.</summary>
    public long ValueCount => (long)Rank * (Rows + Cols);

    /// <summary>The product B · A, [Rows, Cols] row-major, summed in double.</summary>
    public float[] Product()
    {
        var product = DenseDouble.Multiply(Array.ConvertAll(B, x => (double)x), Array.ConvertAll(A, x => (double)x), Rows, Rank, Cols);
        return Array.ConvertAll(product, x => (float)x);
    }

    /// <summary>The rank whose factors hold at most <paramref name="ratio"/> of a [rows, cols] matrix's values: ⌊ratio · rows · cols / (rows + cols)⌋.</summary>
    public static int RankForRatio(int rows, int cols, double ratio) => (int)Math.Floor(ratio * rows * cols / (rows + (double)cols));
}
