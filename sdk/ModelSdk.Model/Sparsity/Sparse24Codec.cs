using System.Numerics;
using System.Runtime.InteropServices;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Sparsity;

/// <summary>
/// Converts a 2:4 sparse row-major matrix between its dense form and the compressed layout of <see cref="TensorFormat.Sparse24"/>
/// (kept values + 2-bit positions [+ int8 scales]). Lossless for fp32 and for int8 (the dense q8 codes and scales are kept
/// as they are); fp16 rounds the kept values to nearest.
/// </summary>
public static class Sparse24Codec
{
    /// <summary>True when every group of 4 consecutive values of every row has at most 2 non-zeros (and rows fit the layout).</summary>
    public static bool IsSparse24(ReadOnlySpan<float> values, int cols)
    {
        if (cols % Sparse24Layout.RowMultiple != 0 || values.Length % cols != 0) return false;
        for (var g = 0; g < values.Length; g += 4)
        {
            var nonZero = 0;
            for (var k = 0; k < 4; k++) if (values[g + k] != 0) nonZero++;
            if (nonZero > 2) return false;
        }
        return true;
    }

    /// <summary>The compressed bytes of a [rows, cols] fp32 or fp16 matrix; ArgumentException when a group has more than 2 non-zeros.</summary>
    public static byte[] Encode(TensorFormat format, ReadOnlySpan<float> values, int rows, int cols)
    {
        if (format.Scheme != QuantScheme.None) throw new ArgumentException($"{format.Name} stores codes: encode it from the dense packed matrix.", nameof(format));
        var layout = Sparse24Layout.Of(format, rows, cols);
        if (values.Length != (long)rows * cols) throw new ArgumentException($"{values.Length} values do not make a [{rows}, {cols}] matrix.", nameof(values));
        var bytes = new byte[layout.TotalBytes];
        var half = format.Bits == 16;
        Span<int> at = stackalloc int[2];
        for (var r = 0; r < rows; r++)
        {
            var row = values.Slice(r * cols, cols);
            var kept = bytes.AsSpan((int)layout.ValuesOffset(r), (int)layout.RowValueBytes);
            var positions = bytes.AsSpan((int)layout.PositionsOffset(r), (int)layout.RowPositionBytes);
            for (var g = 0; g < cols / 4; g++)
            {
                PickKept(row.Slice(g * 4, 4), r, g, at, positions);
                for (var j = 0; j < 2; j++)
                {
                    var value = row[g * 4 + at[j]];
                    if (half) MemoryMarshal.Write(kept[((g * 2 + j) * 2)..], HalfBits.FromFloat(value));
                    else MemoryMarshal.Write(kept[((g * 2 + j) * 4)..], value);
                }
            }
        }
        return bytes;
    }

    /// <summary>
    /// The compressed bytes of a dense int8 matrix whose every group of 4 holds at most 2 non-zero codes: the kept codes,
    /// their positions and the matrix's own scales, into the 2:4 int8 type of the same group size (lossless).
    /// </summary>
    public static byte[] Encode(TensorFormat format, PackedTensor dense)
    {
        if (format.Scheme != QuantScheme.Symmetric || format.Bits != 8 || dense.Format.Bits != 8 || dense.Format.Scheme != QuantScheme.Symmetric || dense.Format.GroupSize != format.GroupSize)
            throw new ArgumentException($"{format.Name} holds the codes of a symmetric int8 matrix of group size {format.GroupSize}, not of {dense.Format.Name}.", nameof(dense));
        int rows = dense.Rows, cols = dense.Cols;
        var layout = Sparse24Layout.Of(format, rows, cols);
        var bytes = new byte[layout.TotalBytes];
        var codes = new int[cols];
        Span<int> at = stackalloc int[2];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++) codes[c] = dense.GetCode(r, c);
            var kept = bytes.AsSpan((int)layout.ValuesOffset(r), (int)layout.RowValueBytes);
            var positions = bytes.AsSpan((int)layout.PositionsOffset(r), (int)layout.RowPositionBytes);
            for (var g = 0; g < cols / 4; g++)
            {
                PickKept(codes.AsSpan(g * 4, 4), r, g, at, positions);
                for (var j = 0; j < 2; j++) kept[g * 2 + j] = (byte)(sbyte)codes[g * 4 + at[j]];
            }
            var scales = dense.Data.AsSpan((int)dense.Layout.ScaleOffset(r, 0), dense.GroupsPerRow * 2);
            scales.CopyTo(bytes.AsSpan((int)layout.ScaleOffset(r, 0)));
        }
        return bytes;
    }

    /// <summary>
    /// The positions of a group's non-zeros, padded with zero-valued positions not already taken, in ascending order,
    /// written into the group's nibble.
    /// </summary>
    private static void PickKept<T>(ReadOnlySpan<T> group, int row, int g, Span<int> at, Span<byte> positions) where T : INumberBase<T>
    {
        var found = 0;
        for (var k = 0; k < 4; k++)
        {
            if (T.IsZero(group[k])) continue;
            if (found == 2) throw new ArgumentException($"Row {row}, inputs {g * 4}..{g * 4 + 3} hold more than 2 non-zeros: not 2:4 sparse.");
            at[found++] = k;
        }
        for (var k = 0; found < 2; k++)
            if (found == 0 || at[0] != k) at[found++] = k;
        if (at[0] > at[1]) (at[0], at[1]) = (at[1], at[0]);
        positions[g / 2] |= (byte)((at[0] | at[1] << 2) << (g % 2 * 4));
    }

    /// <summary>The dense fp32 [rows, cols] matrix the compressed bytes hold.</summary>
    public static float[] Decode(TensorFormat format, ReadOnlySpan<byte> bytes, int rows, int cols)
    {
        var layout = Sparse24Layout.Of(format, rows, cols);
        if (bytes.Length != layout.TotalBytes) throw new ArgumentException($"A [{rows}, {cols}] {format.Name} matrix has {layout.TotalBytes} bytes, not {bytes.Length}.", nameof(bytes));
        var values = new float[(long)rows * cols];
        for (var r = 0; r < rows; r++)
        {
            var positions = bytes.Slice((int)layout.PositionsOffset(r), (int)layout.RowPositionBytes);
            for (var g = 0; g < cols / 4; g++)
            {
                var nibble = positions[g / 2] >> (g % 2 * 4);
                for (var j = 0; j < 2; j++)
                    values[(long)r * cols + g * 4 + ((nibble >> (2 * j)) & 3)] = KeptValue(format, layout, bytes, r, g * 2 + j);
            }
        }
        return values;
    }

    /// <summary>Kept value <paramref name="i"/> of row <paramref name="row"/> (the <c>i / 2</c>-th group of 4 inputs), as fp32.</summary>
    public static float KeptValue(TensorFormat format, in Sparse24Layout layout, ReadOnlySpan<byte> bytes, long row, int i)
    {
        var kept = bytes[(int)layout.ValuesOffset(row)..];
        return format.Bits switch
        {
            32 => MemoryMarshal.Read<float>(kept[(i * 4)..]),
            16 => HalfBits.ToFloat(MemoryMarshal.Read<ushort>(kept[(i * 2)..])),
            _ => (sbyte)kept[i] * HalfBits.ToFloat(MemoryMarshal.Read<ushort>(bytes[(int)layout.ScaleOffset(row, i * 2 / format.GroupSize)..])),
        };
    }
}
