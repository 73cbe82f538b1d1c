using ModelSdk.Quantization;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;

namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>
/// The readable definition of <see cref="Cpu.Sparse24MatVec"/>: for every group of 4 inputs, the two kept values times the
/// inputs at their 2-bit positions, summed in one scalar sum per row (int8: in integers per 32-input block, as the dense
/// q8 types). Also the row decode for an embedding lookup.
/// </summary>
internal static unsafe class Sparse24MatVecReference
{
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        if (w.Bits == 8)
        {
            Rows(w, QuantizedActivations.For(x, w.Cols, w.GroupSize, w.Asymmetric), y, rowStart, rowEnd, accumulate);
            return;
        }
        for (var r = rowStart; r < rowEnd; r++)
        {
            var sum = Dot(w, r, x, 0, w.Cols / 4);
            y[r] = accumulate ? y[r] + sum : sum;
        }
    }

    /// <summary>
    /// int8: as <see cref="QuantizedMatVecReference"/> does for the dense q8 types — x quantized per 32-input block to int16,
    /// each block's kept codes times the activations at their positions summed exactly in integers, scaled by weight scale ×
    /// activation scale — so a 2:4 int8 matrix gives what its dense q8 form gives, pruned zeros contributing nothing.
    /// </summary>
    public static void Rows(in WeightMatrix w, QuantizedActivations a, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            QuantizedMatVec.PrepareRow(w, r, a);
            var codes = (sbyte*)w.Data + (long)r * (w.Cols / 2);
            var positions = w.Positions + (long)r * (w.Cols / 8);
            float sum = 0;
            for (var b = 0; b < a.Blocks; b++)
            {
                long dot = 0;
                for (var g = 8 * b; g < 8 * b + 8; g++)
                {
                    var nibble = positions[g / 2] >> (g % 2 * 4);
                    dot += codes[2 * g] * a.Values[4 * g + (nibble & 3)] + codes[2 * g + 1] * a.Values[4 * g + ((nibble >> 2) & 3)];
                }
                sum += a.RowScales[b] * dot;
            }
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
        return w.Bits switch
        {
            16 => HalfBits.ToFloat(((ushort*)w.Data)[index]),
            8 => ((sbyte*)w.Data)[index] * HalfBits.ToFloat(w.Scales[(long)row * w.GroupsPerRow + i * 2 / w.GroupSize]),
            _ => ((float*)w.Data)[index],
        };
    }
}
