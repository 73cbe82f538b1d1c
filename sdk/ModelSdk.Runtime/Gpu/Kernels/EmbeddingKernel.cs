using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

internal struct EmbeddingArgs
{
    /// <summary>[vocab][rowChunks] chunks.</summary>
    public ArrayView<Chunk16> Table;
    public int RowChunks, Dim;
    /// <summary>Token ids, <see cref="Tokens"/> of them (for decode: the state's token slot).</summary>
    public ArrayView<int> TokenIds;
    public int Tokens;
    /// <summary>[tokens][dim] output.</summary>
    public ArrayView<float> X;
}

/// <summary>x[t] = embedding row of token t, expanded from the weight format. Grid-stride over (token, chunk).</summary>
internal static class EmbeddingKernel
{
    public static void Run<TFormat>(EmbeddingArgs a) where TFormat : struct, IWeightFormat
    {
        var format = default(TFormat);
        var per = format.ElementsPerChunk;
        var total = a.Tokens * a.RowChunks;
        for (var i = Grid.GlobalIndex.X; i < total; i += Grid.DimX * Group.DimX)
        {
            var t = i / a.RowChunks;
            var c = i - t * a.RowChunks;
            var token = a.TokenIds[t];
            var first = c * per;
            var count = a.Dim - first < per ? a.Dim - first : per;
            format.Expand(a.Table[(long)token * a.RowChunks + c], a.X, (long)t * a.Dim + first, 1, count);
        }
    }
}
