using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>
/// The readable definition of <see cref="QuantizedMatVec"/>. fp16 (and f32): decode every weight and accumulate
/// <c>w · x</c> in one scalar sum. Packed int8/int4: x is quantized per 32-value block to int16 (<see cref="QuantizedActivations"/>),
/// every block's dot product of codes and activations is an exact integer, scaled by weight scale × activation scale;
/// symmetric int4's zero code and asymmetric int4's min add one per-group term (<see cref="QuantizedMatVec.PrepareRow"/>).
/// <see cref="DequantizedRows"/> is the exact fp32 product the int16 activations approximate. Also the embedding lookup
/// (<see cref="DequantizeRow"/>).
/// </summary>
internal static unsafe class QuantizedMatVecReference
{
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        if (w.Int8Activations) Int8MatVecReference.Rows(w, x, y, rowStart, rowEnd, accumulate);
        else if (TensorFormats.Of(w.Type).IsPacked) Rows(w, QuantizedActivations.For(x, w.Cols, w.GroupSize, w.Asymmetric), y, rowStart, rowEnd, accumulate);
        else DequantizedRows(w, x, y, rowStart, rowEnd, accumulate);
    }

    /// <summary>Packed weights against activations already quantized.</summary>
    public static void Rows(in WeightMatrix w, QuantizedActivations a, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            var offset = QuantizedMatVec.PrepareRow(w, r, a);
            var codes = w.Data + (long)r * w.RowCodeBytes;
            float sum = 0;
            for (var b = 0; b < a.Blocks; b++)
            {
                long dot = 0;
                for (var i = 0; i < 32; i++) dot += Code(w, codes, b * 32 + i) * a.Values[b * 32 + i];
                sum += a.RowScales[b] * dot;
            }
            sum += offset;
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    /// <summary>The exact product: every weight decoded to fp32, times fp32 x, one scalar sum per row.</summary>
    public static void DequantizedRows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        var row = new float[w.Cols];
        for (var r = rowStart; r < rowEnd; r++)
        {
            fixed (float* values = row) DequantizeRow(w, r, values);
            float sum = 0;
            for (var c = 0; c < w.Cols; c++) sum += row[c] * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }

    /// <summary>The stored code of column <paramref name="c"/> (int4 unsigned 0..15: block of 32 values = 16 bytes, byte j holding value j low and j + 16 high).</summary>
    private static int Code(in WeightMatrix w, byte* codes, int c)
    {
        if (w.Bits == 8) return ((sbyte*)codes)[c];
        var b = codes[c / 32 * 16 + c % 16];
        return c % 32 < 16 ? b & 0xF : b >> 4;
    }

    /// <summary>Row <paramref name="row"/> of the matrix as fp32 values (what the kernels multiply with).</summary>
    public static void DequantizeRow(in WeightMatrix w, int row, float* destination)
    {
        var format = TensorFormats.Of(w.Type);
        int cols = w.Cols;
        switch (w.Type)
        {
            case TensorType.F32:
                Buffer.MemoryCopy(w.F32Data + (long)row * cols, destination, cols * sizeof(float), cols * sizeof(float));
                return;
            case TensorType.F16:
                var halves = (ushort*)w.Data + (long)row * cols;
                for (var c = 0; c < cols; c++) destination[c] = HalfBits.ToFloat(halves[c]);
                return;
        }
        var codes = w.Data + (long)row * w.RowCodeBytes;
        for (var g = 0; g < w.GroupsPerRow; g++)
        {
            var p = new GroupParams(HalfBits.ToFloat(w.Scales[(long)row * w.GroupsPerRow + g]),
                w.Asymmetric ? HalfBits.ToFloat(w.Mins[(long)row * w.GroupsPerRow + g]) : 0f);
            int start = g * w.GroupSize, end = Math.Min(cols, start + w.GroupSize);
            for (var c = start; c < end; c++)
            {
                destination[c] = GroupQuantizer.Decode(format, Code(w, codes, c), p);
            }
        }
    }
}
