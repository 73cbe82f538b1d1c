using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>One matrix-matrix product of prefill: C[t, r] = Σ_k A[t, k] · W[r, k] for a batch of prompt tokens.</summary>
internal struct GemmArgs
{
    /// <summary>[rows][rowChunks] chunks, row-major (the same buffers decode reads).</summary>
    public ArrayView<Chunk16> W;
    public int Rows, RowChunks, Cols;
    /// <summary>[tokens][cols] activations.</summary>
    public ArrayView<float> A;
    public int Tokens;
    /// <summary>Thread grid of a block: threadsX · threadsY = group size; the tile is (4·threadsY tokens) × (4·threadsX rows).</summary>
    public int ThreadsX, ThreadsY;
}

/// <summary>
/// Tiled GEMM for prefill: a block computes a (4·threadsY) × (4·threadsX) tile of C, each thread a 4 × 4 register
/// micro-tile. Per step of <see cref="TileK"/> along k the block stages the A tile (transposed) and the W tile (expanded
/// from its format, transposed) in shared memory, so each weight is read from device memory once per token tile
/// instead of once per token. The epilogue gets row pairs, as in decode.
/// Dynamic shared memory: TileK · (4·threadsY + 4·threadsX) floats.
/// </summary>
internal static class GemmKernel
{
    public const int TileK = 32;

    public static void Run<TFormat, TEpilogue>(GemmArgs a, TEpilogue epilogue)
        where TFormat : struct, IWeightFormat
        where TEpilogue : struct, IRowPairEpilogue
    {
        var shared = SharedMemory.GetDynamic<float>();
        var format = default(TFormat);
        var per = format.ElementsPerChunk;
        var tid = Group.IdxX;
        var threads = Group.DimX;
        var tx = tid % a.ThreadsX;
        var ty = tid / a.ThreadsX;
        var tileM = 4 * a.ThreadsY;
        var tileN = 4 * a.ThreadsX;
        var m0 = Grid.IdxY * tileM;
        var n0 = Grid.IdxX * tileN;
        var As = shared.SubView(0, TileK * tileM);
        var Ws = shared.SubView(TileK * tileM, TileK * tileN);
        var chunksPerTile = TileK / per;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        var padded = a.RowChunks * per;
        for (var k0 = 0; k0 < padded; k0 += TileK)
        {
            // A tile: consecutive threads read consecutive k of one token (coalesced), stored transposed [k][m].
            for (var e = tid; e < tileM * TileK; e += threads)
            {
                var mm = e / TileK;
                var kk = e - mm * TileK;
                var t = m0 + mm;
                var k = k0 + kk;
                As[kk * tileM + mm] = t < a.Tokens && k < a.Cols ? a.A[(long)t * a.Cols + k] : 0f;
            }
            // W tile: one 16-byte chunk per thread and step, expanded into Ws[k][n].
            for (var e = tid; e < tileN * chunksPerTile; e += threads)
            {
                var nn = e / chunksPerTile;
                var cc = e - nn * chunksPerTile;
                var r = n0 + nn;
                var chunk = k0 / per + cc;
                var at = cc * per * tileN + nn;
                if (r < a.Rows && chunk < a.RowChunks) format.Expand(a.W[(long)r * a.RowChunks + chunk], Ws, at, tileN, per);
                else
                {
                    for (var j = 0; j < per; j++) Ws[at + j * tileN] = 0f;
                }
            }
            Group.Barrier();
            var am = ty * 4;
            var wn = tx * 4;
            for (var kk = 0; kk < TileK; kk++)
            {
                var ak = kk * tileM + am;
                var wk = kk * tileN + wn;
                float a0 = As[ak], a1 = As[ak + 1], a2 = As[ak + 2], a3 = As[ak + 3];
                float w0 = Ws[wk], w1 = Ws[wk + 1], w2 = Ws[wk + 2], w3 = Ws[wk + 3];
                c00 += a0 * w0; c01 += a0 * w1; c02 += a0 * w2; c03 += a0 * w3;
                c10 += a1 * w0; c11 += a1 * w1; c12 += a1 * w2; c13 += a1 * w3;
                c20 += a2 * w0; c21 += a2 * w1; c22 += a2 * w2; c23 += a2 * w3;
                c30 += a3 * w0; c31 += a3 * w1; c32 += a3 * w2; c33 += a3 * w3;
            }
            Group.Barrier();
        }

        var row = n0 + tx * 4;
        var token = m0 + ty * 4;
        Store(epilogue, a, token, row, c00, c01, c02, c03);
        Store(epilogue, a, token + 1, row, c10, c11, c12, c13);
        Store(epilogue, a, token + 2, row, c20, c21, c22, c23);
        Store(epilogue, a, token + 3, row, c30, c31, c32, c33);
    }

    private static void Store<TEpilogue>(TEpilogue epilogue, GemmArgs a, int token, int row, float v0, float v1, float v2, float v3)
        where TEpilogue : struct, IRowPairEpilogue
    {
        if (token >= a.Tokens) return;
        if (row < a.Rows) epilogue.Store(token, row, v0, v1);
        if (row + 2 < a.Rows) epilogue.Store(token, row + 2, v2, v3);
    }
}
