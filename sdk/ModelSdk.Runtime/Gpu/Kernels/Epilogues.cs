using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>
/// What a matrix kernel (<see cref="MatVecKernel"/> for one token, <see cref="GemmKernel"/> for a prompt) does with two
/// adjacent outputs: rows <c>row</c> (even) and <c>row + 1</c> of token <c>token</c>. Pairs let RoPE rotate (i, i+1) and
/// SwiGLU combine gate and up without another pass over memory. Taken as a generic struct type argument: one
/// specialized kernel per epilogue, no branch on a mode.
/// </summary>
internal interface IRowPairEpilogue
{
    /// <param name="token">Token index within the batch (0 for decode).</param>
    /// <param name="row">Even output row; <paramref name="b"/> belongs to row + 1 (absent when row + 1 is past the last row).</param>
    void Store(int token, int row, float a, float b);
}

/// <summary>y[token, row] = value (the classifier's logits).</summary>
internal struct StoreRows : IRowPairEpilogue
{
    public ArrayView<float> Y;
    public int Rows;

    public readonly void Store(int token, int row, float a, float b)
    {
        var at = (long)token * Rows + row;
        Y[at] = a;
        if (row + 1 < Rows) Y[at + 1] = b;
    }
}

/// <summary>y[token, row] += value: the residual adds after <c>wo</c> and <c>w2</c>.</summary>
internal struct AddRows : IRowPairEpilogue
{
    public ArrayView<float> Y;
    public int Rows;

    public readonly void Store(int token, int row, float a, float b)
    {
        var at = (long)token * Rows + row;
        Y[at] += a;
        if (row + 1 < Rows) Y[at + 1] += b;
    }
}

/// <summary>
/// Fused gate/up: the weight rows are interleaved (2i = w1 row i, 2i + 1 = w3 row i), so a pair is (gate, up) of hidden
/// unit i and h[token, i] = silu(gate) · up (llama2.c's order of operations).
/// </summary>
internal struct SwiGluRows : IRowPairEpilogue
{
    public ArrayView<float> H;
    public int Hidden;

    public readonly void Store(int token, int row, float gate, float up)
    {
        var val = gate * (1.0f / (1.0f + MathF.Exp(-gate)));
        H[(long)token * Hidden + row / 2] = val * up;
    }
}

/// <summary>
/// Fused QKV: rows [0, dim) are q, [dim, dim + kvDim) k, then v. RoPE rotates q and k pairs (llama2.c's interleaved
/// pairs, angles from the <see cref="Rope"/> table); k and v go straight into the KV cache at the token's position
/// (<c>State[Pos] + token</c>), q into <see cref="Q"/>.
/// </summary>
internal struct QkvRope : IRowPairEpilogue
{
    public ArrayView<float> Q;
    public ArrayView<float> KeyCache;
    public ArrayView<float> ValueCache;
    /// <summary>[seq][headSize / 2][cos, sin]</summary>
    public ArrayView<float> Rope;
    public ArrayView<int> State;
    public long LayerOffset;
    public int Dim, KvDim, HeadSize;

    public readonly void Store(int token, int row, float a, float b)
    {
        var pos = State[StepState.Pos] + token;
        if (row < Dim + KvDim)
        {
            var pair = (row % HeadSize) / 2;
            var angle = ((long)pos * (HeadSize / 2) + pair) * 2;
            var cos = Rope[angle];
            var sin = Rope[angle + 1];
            var r0 = a * cos - b * sin;
            var r1 = a * sin + b * cos;
            if (row < Dim)
            {
                var at = (long)token * Dim + row;
                Q[at] = r0;
                Q[at + 1] = r1;
            }
            else
            {
                var at = LayerOffset + (long)pos * KvDim + (row - Dim);
                KeyCache[at] = r0;
                KeyCache[at + 1] = r1;
            }
        }
        else
        {
            var at = LayerOffset + (long)pos * KvDim + (row - Dim - KvDim);
            ValueCache[at] = a;
            ValueCache[at + 1] = b;
        }
    }
}
