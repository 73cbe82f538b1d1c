using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;

namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>
/// The readable definition of <see cref="Int8MatVec"/> (W8A8): x quantized to int8 per token (<see cref="Int8Activations"/>),
/// each row's dot product of int8 codes and int8 activations an exact integer, times the row's fp16 scale times the
/// token's scale. <see cref="QuantizedMatVecReference.DequantizedRows"/> is the exact fp32 product it approximates.
/// </summary>
internal static unsafe class Int8MatVecReference
{
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
        => Rows(w, Int8Activations.For(x, w.Cols), y, rowStart, rowEnd, accumulate);

    /// <summary>Against activations already quantized.</summary>
    public static void Rows(in WeightMatrix w, Int8Activations a, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            var codes = (sbyte*)w.Data + (long)r * w.RowCodeBytes;
            long dot = 0;
            for (var c = 0; c < w.Cols; c++) dot += codes[c] * a.Values[c];
            var sum = (int)dot * (HalfBits.ToFloat(w.Scales[r]) * a.Scale);
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }
}
