using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;

namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>
/// The readable definition of <see cref="Cpu.Sparse24MatVec"/>: for every group of 4 inputs, the two kept values times the
/// inputs at their 2-bit positions, summed in one scalar sum per row. Also the row decode for an embedding lookup.
/// </summary>
internal static unsafe class Sparse24MatVecReference
{
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            var sum = Dot(w, r, x, 0, w.Cols / 4);
            y[r] = accumulate ? y[r] + sum : sum;
        }
    }

    /// <summary>Σ over groups [<paramref name="firstGroup"/>, <paramref name="endGroup"/>) of row <paramref name="row"/> of kept value × input.</summary>
    public static float Dot(in WeightMatrix w, int row, float* x, int firstGroup, int endGroup)
    {
        var positions = w.Positions + (long)row * (w.Cols / 8);
        var sum = 0f;
        for (var g = firstGroup; g < endGroup; g++)
        {
            var nibble = positions[g / 2] >> (g % 2 * 4);
            sum += Value(w, row, 2 * g) * x[4 * g + (nibble & 3)];
            sum += Value(w, row, 2 * g + 1) * x[4 * g + ((nibble >> 2) & 3)];
        }
        return sum;
    }

    /// <summary>Row <paramref name="row"/> as dense fp32 (zeros where pruned).</summary>
    public static void DecodeRow(in WeightMatrix w, int row, float* destination)
    {
        new Span<float>(destination, w.Cols).Clear();
        var positions = w.Positions + (long)row * (w.Cols / 8);
        for (var g = 0; g < w.Cols / 4; g++)
        {
            var nibble = positions[g / 2] >> (g % 2 * 4);
            destination[4 * g + (nibble & 3)] = Value(w, row, 2 * g);
            destination[4 * g + ((nibble >> 2) & 3)] = Value(w, row, 2 * g + 1);
        }
    }

    /// <summary>Kept value <paramref name="i"/> of row <paramref name="row"/>.</summary>
    private static float Value(in WeightMatrix w, int row, int i)
    {
        var index = (long)row * (w.Cols / 2) + i;
        return w.Bits == 16 ? HalfBits.ToFloat(((ushort*)w.Data)[index]) : ((float*)w.Data)[index];
    }
}
