using System.Runtime.InteropServices;
using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Sparsity;

/// <summary>
/// Converts a 2:4 sparse row-major matrix between fp32 values and the compressed layout of <see cref="TensorFormat.Sparse24"/>
/// (kept values + 2-bit positions). Lossless for fp32; fp16 rounds the kept values to nearest.
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

    /// <summary>The compressed bytes of a [rows, cols] matrix; ArgumentException when a group has more than 2 non-zeros.</summary>
    public static byte[] Encode(TensorFormat format, ReadOnlySpan<float> values, int rows, int cols)
    {
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
                // The group's non-zeros, padded with zero-valued positions not already taken.
                var found = 0;
                for (var k = 0; k < 4; k++)
                {
                    if (row[g * 4 + k] == 0) continue;
                    if (found == 2) throw new ArgumentException($"Row {r}, inputs {g * 4}..{g * 4 + 3} hold more than 2 non-zeros: not 2:4 sparse.", nameof(values));
                    at[found++] = k;
                }
                for (var k = 0; found < 2; k++)
                    if (found == 0 || at[0] != k) at[found++] = k;
                if (at[0] > at[1]) (at[0], at[1]) = (at[1], at[0]);
                for (var j = 0; j < 2; j++)
                {
                    var value = row[g * 4 + at[j]];
                    if (half) MemoryMarshal.Write(kept[((g * 2 + j) * 2)..], HalfBits.FromFloat(value));
                    else MemoryMarshal.Write(kept[((g * 2 + j) * 4)..], value);
                }
                positions[g / 2] |= (byte)((at[0] | at[1] << 2) << (g % 2 * 4));
            }
        }
        return bytes;
    }

    /// <summary>The dense fp32 [rows, cols] matrix the compressed bytes hold.</summary>
    public static float[] Decode(TensorFormat format, ReadOnlySpan<byte> bytes, int rows, int cols)
    {
        var layout = Sparse24Layout.Of(format, rows, cols);
        if (bytes.Length != layout.TotalBytes) throw new ArgumentException($"A [{rows}, {cols}] {format.Name} matrix has {layout.TotalBytes} bytes, not {bytes.Length}.", nameof(bytes));
        var values = new float[(long)rows * cols];
        var half = format.Bits == 16;
        for (var r = 0; r < rows; r++)
        {
            var kept = bytes.Slice((int)layout.ValuesOffset(r), (int)layout.RowValueBytes);
            var positions = bytes.Slice((int)layout.PositionsOffset(r), (int)layout.RowPositionBytes);
            for (var g = 0; g < cols / 4; g++)
            {
                var nibble = positions[g / 2] >> (g % 2 * 4);
                for (var j = 0; j < 2; j++)
                {
                    var at = (nibble >> (2 * j)) & 3;
                    var i = g * 2 + j;
                    values[(long)r * cols + g * 4 + at] = half ? HalfBits.ToFloat(MemoryMarshal.Read<ushort>(kept[(i * 2)..])) : MemoryMarshal.Read<float>(kept[(i * 4)..]);
                }
            }
        }
        return values;
    }
}
