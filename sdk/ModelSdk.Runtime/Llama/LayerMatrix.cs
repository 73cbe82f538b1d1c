using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// One of a block's seven matrices as the forward pass reads it: a dense W [rows, cols] in any storage type, or a low-rank
/// matrix stored as its factors W = B·A (A [rank, cols], B [rows, rank]; the <c>low-rank</c> pass makes them). A factored
/// matrix costs two matrix-vector products through the same kernels, y = B·(A·x), over rank · (rows + cols) values
/// instead of rows · cols.
/// </summary>
internal readonly unsafe struct LayerMatrix
{
    private LayerMatrix(WeightMatrix outer, WeightMatrix inner)
    {
        Outer = outer;
        Inner = inner;
    }

    public static LayerMatrix Dense(in WeightMatrix w) => new(w, default);

    /// <summary>W = B·A: <paramref name="a"/> [rank, cols] is applied first, then <paramref name="b"/> [rows, rank].</summary>
    public static LayerMatrix Factored(in WeightMatrix a, in WeightMatrix b)
    {
        if (a.Rows != b.Cols) throw new ArgumentException($"Factors [{b.Rows}, {b.Cols}] · [{a.Rows}, {a.Cols}] do not share a rank.");
        return new(b, a);
    }

    /// <summary>The dense matrix, or the outer factor B [rows, rank] of a factored one (what produces the output rows).</summary>
    public WeightMatrix Outer { get; }

    /// <summary>The inner factor A [rank, cols] of a factored matrix (applied to the input first); default when dense.</summary>
    public WeightMatrix Inner { get; }

    public bool IsFactored => Inner.Data != null;

    /// <summary>The shared dimension of the factors; 0 when dense.</summary>
    public int Rank => IsFactored ? Inner.Rows : 0;

    public int Rows => Outer.Rows;

    public int Cols => IsFactored ? Inner.Cols : Outer.Cols;

    /// <summary>Bytes one matrix-vector product reads (both factors of a factored matrix).</summary>
    public long ByteLength => Outer.ByteLength + (IsFactored ? Inner.ByteLength : 0);

    /// <summary>The same matrix read from where <paramref name="move"/> puts each of its tensors (a copy of the same bytes).</summary>
    public LayerMatrix Relocated(Func<nint, nint> move)
        => new(Relocated(Outer, move), IsFactored ? Relocated(Inner, move) : default);

    private static WeightMatrix Relocated(in WeightMatrix w, Func<nint, nint> move) => new(w.Type, (void*)move((nint)w.Data), w.Rows, w.Cols);

    /// <summary>Storage types, e.g. "f32" or "f32 factored (rank 104)", for messages.</summary>
    public string Describe()
        => IsFactored ? $"{Outer.Type.ToManifestName()} factored (rank {Rank})" : Outer.Type.ToManifestName();
}
