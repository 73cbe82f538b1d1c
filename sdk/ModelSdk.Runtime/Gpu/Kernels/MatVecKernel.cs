using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>One matrix-vector product of decode: y = W·x over rows of 16-byte chunks.</summary>
internal struct MatVecArgs
{
    /// <summary>[rows][rowChunks] chunks, row-major.</summary>
    public ArrayView<Chunk16> W;
    public int Rows, RowChunks, Cols;
    /// <summary>The input vector, <see cref="Cols"/> floats.</summary>
    public ArrayView<float> X;
    /// <summary>RMSNorm weight applied to x first when <see cref="Normalize"/> is 1 (unused otherwise).</summary>
    public ArrayView<float> Norm;
    public int Normalize;
    public float Eps;
}

/// <summary>
/// Fused (RMSNorm +) matvec + epilogue for one token. Each block first stages x in shared memory (normalized when asked:
/// the block reduces Σx² itself, so RMSNorm costs no launch and no pass over memory), then each warp takes a pair of
/// rows at a time (grid-stride): every lane streams 16-byte chunks of both rows, two chunks of each in flight, dots them
/// with the staged x, and a butterfly shuffle sums the lanes; lane 0 hands the pair to the epilogue.
/// Dynamic shared memory: rowChunks · elementsPerChunk floats.
/// </summary>
internal static class MatVecKernel
{
    public static void Run<TFormat, TEpilogue>(MatVecArgs a, TEpilogue epilogue)
        where TFormat : struct, IWeightFormat
        where TEpilogue : struct, IRowPairEpilogue
    {
        var xs = SharedMemory.GetDynamic<float>();
        var scratch = SharedMemory.Allocate<float>(32);
        var format = default(TFormat);
        var per = format.ElementsPerChunk;
        var padded = a.RowChunks * per;

        var ss = 0f;
        for (var i = Group.IdxX; i < padded; i += Group.DimX)
        {
            var v = i < a.Cols ? a.X[i] : 0f;
            xs[i] = v;
            ss += v * v;
        }
        if (a.Normalize != 0)
        {
            var total = Reductions.BlockSum(ss, scratch);
            var scale = 1.0f / MathF.Sqrt(total / a.Cols + a.Eps);
            // Each thread rescales the elements it staged itself: no barrier needed in between.
            for (var i = Group.IdxX; i < a.Cols; i += Group.DimX) xs[i] = a.Norm[i] * (scale * xs[i]);
        }
        Group.Barrier();

        var ws = Warp.WarpSize;
        var lane = Warp.LaneIdx;
        var warpsPerGroup = Group.DimX / ws;
        var pairs = (a.Rows + 1) / 2;
        for (var p = Grid.IdxX * warpsPerGroup + Group.IdxX / ws; p < pairs; p += Grid.DimX * warpsPerGroup)
        {
            var rowA = 2 * p;
            var rowB = rowA + 1 < a.Rows ? rowA + 1 : rowA;
            var baseA = (long)rowA * a.RowChunks;
            var baseB = (long)rowB * a.RowChunks;
            var sumA = 0f;
            var sumB = 0f;
            var c = lane;
            for (; c + ws < a.RowChunks; c += 2 * ws)
            {
                var a0 = a.W[baseA + c];
                var b0 = a.W[baseB + c];
                var a1 = a.W[baseA + c + ws];
                var b1 = a.W[baseB + c + ws];
                sumA += format.Dot(a0, xs, c * per) + format.Dot(a1, xs, (c + ws) * per);
                sumB += format.Dot(b0, xs, c * per) + format.Dot(b1, xs, (c + ws) * per);
            }
            if (c < a.RowChunks)
            {
                var a0 = a.W[baseA + c];
                var b0 = a.W[baseB + c];
                sumA += format.Dot(a0, xs, c * per);
                sumB += format.Dot(b0, xs, c * per);
            }
            sumA = Reductions.WarpSum(sumA);
            sumB = Reductions.WarpSum(sumB);
            if (lane == 0) epilogue.Store(0, rowA, sumA, sumB);
        }
    }
}
