using System.Runtime.CompilerServices;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// The forward pass's one entry point for a weight matrix of any storage type: fp32 goes to <see cref="MatMat"/> /
/// <see cref="MatVec"/> exactly as before; 2:4 sparse matrices to <see cref="Sparse24MatVec"/> and packed and fp16 matrices to
/// the fused <see cref="QuantizedMatVec"/>, token by token.
/// </summary>
internal static unsafe class Linear
{
    /// <summary><c>y[t·ldy + r] (+)= W[r,:] · x[t·ldx ..]</c> for rows [rowStart, rowEnd) and <paramref name="tokens"/> inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in WeightMatrix w, float* x, int ldx, float* y, int ldy, int rowStart, int rowEnd, int tokens, bool accumulate, VectorWidth width)
    {
        if (w.IsF32)
        {
            MatMat.Rows(w.F32Data, x, ldx, y, ldy, w.Cols, rowStart, rowEnd, tokens, accumulate, width);
            return;
        }
        if (w.IsSparse24)
        {
            for (var t = 0; t < tokens; t++)
                Sparse24MatVec.Rows(w, x + (long)t * ldx, y + (long)t * ldy, rowStart, rowEnd, accumulate, width);
            return;
        }
        for (var t = 0; t < tokens; t++)
            QuantizedMatVec.Rows(w, x + (long)t * ldx, y + (long)t * ldy, rowStart, rowEnd, accumulate, width);
    }

    /// <summary>Row <paramref name="row"/> of an embedding matrix as fp32 (dequantized on lookup for packed types).</summary>
    public static void Row(in WeightMatrix w, int row, float* destination)
    {
        if (w.IsF32)
        {
            var bytes = (long)w.Cols * sizeof(float);
            Buffer.MemoryCopy(w.F32Data + (long)row * w.Cols, destination, bytes, bytes);
            return;
        }
        if (w.IsSparse24)
        {
            Sparse24MatVecReference.DecodeRow(w, row, destination);
            return;
        }
        QuantizedMatVecReference.DequantizeRow(w, row, destination);
    }
}
