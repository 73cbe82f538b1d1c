using System.Buffers.Binary;
using ModelSdk.Tensors;

namespace ModelSdk.Quantization;

/// <summary>
/// A packed (quantized) [rows, cols] matrix in managed memory, laid out exactly as the artifact stores it and the kernels
/// read it (<see cref="TensorFormat"/>, <see cref="PackedLayout"/>). Passes build one group at a time
/// (<see cref="SetGroup"/>) or quantize a whole fp32 matrix by round-to-nearest (<see cref="QuantizeRtn"/>).
/// </summary>
public sealed class PackedTensor
{
    public PackedTensor(TensorFormat format, int rows, int cols)
    {
        if (!format.IsPacked) throw new ArgumentException($"{format.Name} is not a packed type.", nameof(format));
        Format = format;
        Rows = rows;
        Cols = cols;
        Layout = format.Layout(rows, cols);
        Data = new byte[Layout.TotalBytes];
    }

    public TensorFormat Format { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int GroupsPerRow => (int)Layout.GroupsPerRow;

    public PackedLayout Layout { get; }

    /// <summary>The artifact bytes: codes, then scales, then mins.</summary>
    public byte[] Data { get; }

    /// <summary>Values in group <paramref name="group"/> of a row (the group size; fewer for a short last group).</summary>
    public int GroupLength(int group) => Layout.GroupLength(group);

    /// <summary>Round-to-nearest quantization of a row-major fp32 matrix by <see cref="GroupQuantizer.QuantizeGroup"/>, rows in parallel.</summary>
    public static PackedTensor QuantizeRtn(TensorFormat format, ReadOnlySpan<float> values, int rows, int cols)
        => Quantize(format, values, rows, cols, (group, codes) => GroupQuantizer.QuantizeGroup(format, group, codes));

    /// <summary>
    /// Quantization of a row-major fp32 matrix with the group parameters of least squared error
    /// (<see cref="GroupQuantizer.FitParams"/>), rows in parallel.
    /// </summary>
    public static PackedTensor QuantizeFitted(TensorFormat format, ReadOnlySpan<float> values, int rows, int cols)
        => Quantize(format, values, rows, cols, (group, codes) =>
        {
            var p = GroupQuantizer.FitParams(format, group);
            for (var i = 0; i < group.Length; i++) codes[i] = GroupQuantizer.Encode(format, group[i], p);
            return p;
        });

    private delegate GroupParams GroupRule(ReadOnlySpan<float> group, Span<int> codes);

    private static PackedTensor Quantize(TensorFormat format, ReadOnlySpan<float> values, int rows, int cols, GroupRule rule)
    {
        if (values.Length != (long)rows * cols) throw new ArgumentException($"{values.Length} values do not make a [{rows}, {cols}] matrix.", nameof(values));
        var packed = new PackedTensor(format, rows, cols);
        var copy = values.ToArray();
        var groupSize = packed.Layout.GroupSize;
        Parallel.For(0, rows, () => new int[groupSize], (row, _, codes) =>
        {
            for (var g = 0; g < packed.GroupsPerRow; g++)
            {
                var length = packed.GroupLength(g);
                var p = rule(copy.AsSpan(row * cols + g * groupSize, length), codes.AsSpan(0, length));
                packed.SetGroup(row, g, codes.AsSpan(0, length), p);
            }
            return codes;
        }, _ => { });
        return packed;
    }

    /// <summary>Stores one group's codes (each within the format's code range) and parameters (rounded to fp16 here).</summary>
    public void SetGroup(int row, int group, ReadOnlySpan<int> codes, GroupParams p)
    {
        var length = GroupLength(group);
        if (codes.Length != length) throw new ArgumentException($"Group {group} of a row of {Cols} has {length} codes, not {codes.Length}.", nameof(codes));
        var first = group * Layout.GroupSize;
        for (var i = 0; i < length; i++) SetCode(row, first + i, codes[i]);
        BinaryPrimitives.WriteUInt16LittleEndian(Data.AsSpan((int)Layout.ScaleOffset(row, group)), HalfBits.FromFloat(p.Scale));
        if (Format.Scheme == QuantScheme.Asymmetric)
            BinaryPrimitives.WriteUInt16LittleEndian(Data.AsSpan((int)Layout.MinOffset(row, group)), HalfBits.FromFloat(p.Min));
    }

    /// <summary>Stores the code of element (row, col) (parameters are set per group by <see cref="SetGroup"/>).</summary>
    public void SetCode(int row, int col, int code)
    {
        CheckCode(code);
        var at = CodeByte(Layout, row, col, out var highNibble);
        if (Format.Bits == 8) Data[at] = (byte)(sbyte)code;
        else if (highNibble) Data[at] = (byte)((Data[at] & 0x0F) | code << 4);
        else Data[at] = (byte)((Data[at] & 0xF0) | code);
    }

    /// <summary>The code stored for element (row, col).</summary>
    public int GetCode(int row, int col) => GetCode(Data, Layout, row, col);

    /// <summary>The stored parameters of (row, group).</summary>
    public GroupParams GetParams(int row, int group) => GetParams(Data, Layout, row, group);

    /// <summary>The values a row stands for (what the kernels multiply with).</summary>
    public void DequantizeRow(int row, Span<float> destination) => DequantizeRow(Data, Layout, row, destination);

    public float[] Dequantize()
    {
        var values = new float[(long)Rows * Cols];
        for (var r = 0; r < Rows; r++) DequantizeRow(r, values.AsSpan(r * Cols, Cols));
        return values;
    }

    /// <summary>Where (row, col)'s code lives: int4 blocks of 32 values hold value j and j + 16 in byte j's low and high nibble.</summary>
    private static int CodeByte(in PackedLayout layout, long row, long col, out bool highNibble)
    {
        if (layout.Format.Bits == 8)
        {
            highNibble = false;
            return (int)(layout.CodesOffset(row) + col);
        }
        long block = col / TensorFormats.BlockSize, inBlock = col % TensorFormats.BlockSize;
        highNibble = inBlock >= TensorFormats.BlockSize / 2;
        return (int)(layout.CodesOffset(row) + block * (TensorFormats.BlockSize / 2) + inBlock % (TensorFormats.BlockSize / 2));
    }

    public static int GetCode(ReadOnlySpan<byte> data, in PackedLayout layout, long row, long col)
    {
        var at = CodeByte(layout, row, col, out var highNibble);
        if (layout.Format.Bits == 8) return (sbyte)data[at];
        return highNibble ? data[at] >> 4 : data[at] & 0xF;
    }

    public static GroupParams GetParams(ReadOnlySpan<byte> data, in PackedLayout layout, long row, long group)
    {
        var scale = HalfBits.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(data[(int)layout.ScaleOffset(row, group)..]));
        var min = layout.Format.Scheme == QuantScheme.Asymmetric
            ? HalfBits.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(data[(int)layout.MinOffset(row, group)..]))
            : 0f;
        return new GroupParams(scale, min);
    }

    /// <summary>Decodes one row of a packed tensor held in <paramref name="data"/> (the reference every kernel is checked against).</summary>
    public static void DequantizeRow(ReadOnlySpan<byte> data, in PackedLayout layout, long row, Span<float> destination)
    {
        var f = layout.Format;
        for (long g = 0; g < layout.GroupsPerRow; g++)
        {
            var p = GetParams(data, layout, row, g);
            var length = layout.GroupLength(g);
            for (var i = 0; i < length; i++)
            {
                var col = g * layout.GroupSize + i;
                destination[(int)col] = GroupQuantizer.Decode(f, GetCode(data, layout, row, col), p);
            }
        }
    }

    private int CheckCode(int code)
        => code >= Format.MinCode && code <= Format.MaxCode
            ? code
            : throw new ArgumentOutOfRangeException(nameof(code), code, $"{Format.Name} codes are {Format.MinCode}..{Format.MaxCode}.");
}
