namespace ModelSdk.Tensors;

/// <summary>How a packed type maps codes to values.</summary>
public enum QuantScheme
{
    /// <summary>Not quantized (f32, f16, u8).</summary>
    None,

    /// <summary>value = (code − <see cref="TensorFormat.ZeroCode"/>) · scale; one fp16 scale per group.</summary>
    Symmetric,

    /// <summary>value = code · scale + min; fp16 scale and fp16 min per group.</summary>
    Asymmetric,
}

/// <summary>
/// One row of the traits table (ggml's type-traits idea): everything the writer, the validator, the quantizers and the
/// kernels need to know about a storage type.
/// <para>
/// Packed (quantized) tensors are quantized along their last dimension (the row: a matrix's input dimension), whose
/// length must be a multiple of <see cref="TensorFormats.BlockSize"/> (32). Each row is cut into groups of
/// <see cref="GroupSize"/> consecutive values, the last group of a row being shorter when the group size does not divide
/// the row (stories15M's 288 = 4·64 + 32); every group is a whole number of 32-value blocks. Stored <b>planar</b>, in the
/// order the kernels stream them:
/// <code>
/// [codes]  rows × cols·bits/8 bytes, row-major; int8: one sbyte per value; int4: every 32-value block takes 16 bytes,
///          byte j holding value j in its low nibble and value j + 16 in its high nibble (ggml's Q4_0 order, whatever
///          the group size: a kernel unpacks a block with one AND and one shift)
/// [scales] rows × groups fp16 (IEEE binary16 bits, little-endian), row-major
/// [mins]   rows × groups fp16, asymmetric types only
/// </code>
/// See <see cref="PackedLayout"/> for the offsets. A <see cref="PerRow"/> type is the same layout with one group per row
/// (<see cref="GroupSize"/> 0 in the table: the group is the whole row, whatever its length).
/// </para>
/// </summary>
public sealed record TensorFormat(TensorType Type, string Name, int Bits, int GroupSize, QuantScheme Scheme)
{
    public bool IsPacked => Scheme != QuantScheme.None;

    /// <summary>
    /// A 2:4 sparse matrix (<see cref="Bits"/>: of each stored value, fp32 or fp16): rows of a multiple of 8 values, every
    /// group of 4 consecutive inputs holding at most 2 non-zeros. Stored planar, as the kernel streams it (see
    /// <see cref="Sparse24Layout"/>):
    /// <code>
    /// [values]    rows × cols/2 values, row-major: each group's two kept values, the lower position first
    /// [positions] rows × cols/8 bytes, row-major: one nibble per group (even group in the low nibble), bits 0–1 the
    ///             position (0..3) of the group's first kept value, bits 2–3 that of its second
    /// </code>
    /// </summary>
    public bool Sparse24 { get; init; }

    /// <summary>
    /// One scale per row (per output channel) instead of per group: the layout above with a single group as long as the
    /// row. Rows of any multiple of 32 values fit, so the table states <see cref="GroupSize"/> 0 and
    /// <see cref="GroupSizeFor"/> gives the length.
    /// </summary>
    public bool PerRow { get; init; }

    /// <summary>
    /// The kernels multiply this type with activations quantized to int8 per token (symmetric, scale max|x| / 127 over the
    /// whole vector) in an int8·int8→int32 dot product (SmoothQuant's W8A8), instead of the int16 per-32-value-block
    /// activations of the group formats.
    /// </summary>
    public bool Int8Activations { get; init; }

    /// <summary>Values in a full group of a row of <paramref name="cols"/> values: <see cref="GroupSize"/>, or the row for <see cref="PerRow"/> types.</summary>
    public int GroupSizeFor(long cols) => PerRow ? checked((int)cols) : GroupSize;

    /// <summary>Smallest and largest code; symmetric int8 uses −127..127 (ggml's Q8_0), int4 0..15.</summary>
    public int MinCode => Bits == 8 ? -127 : 0;

    public int MaxCode => Bits == 8 ? 127 : 15;

    /// <summary>The code that means 0 in a symmetric type (0 for int8, 8 for int4).</summary>
    public int ZeroCode => Scheme == QuantScheme.Symmetric && Bits == 4 ? 8 : 0;

    /// <summary>Bytes of codes per full group (a <see cref="PerRow"/> type's group is the row: 0 here, see <see cref="ByteLength"/>).</summary>
    public int CodeBytesPerGroup => IsPacked ? GroupSize * Bits / 8 : 0;

    /// <summary>Bytes of parameters per group: an fp16 scale, and an fp16 min when asymmetric.</summary>
    public int ParamBytesPerGroup => Scheme switch { QuantScheme.Symmetric => 2, QuantScheme.Asymmetric => 4, _ => 0 };

    /// <summary>Bytes per full group, codes and parameters.</summary>
    public int BytesPerGroup => CodeBytesPerGroup + ParamBytesPerGroup;

    /// <summary>
    /// Storage bits per weight, parameters included, for rows that the group size divides (q4_g32_sym: 4.5); for a
    /// <see cref="PerRow"/> type the codes' bits (its one scale per row adds 16 / cols).
    /// </summary>
    public double BitsPerWeight => IsPacked && !PerRow ? 8.0 * BytesPerGroup / GroupSize : Bits;

    /// <summary>Groups in a row of <paramref name="cols"/> values (the last one possibly shorter).</summary>
    public long GroupsPerRow(long cols) => PerRow ? 1 : (cols + GroupSize - 1) / GroupSize;

    /// <summary>
    /// The bytes a tensor of this type and shape occupies; null when the shape does not fit the type (a packed type needs
    /// a last dimension that is a multiple of <see cref="TensorFormats.BlockSize"/>); long.MaxValue when the size overflows.
    /// </summary>
    public long? ByteLength(ReadOnlySpan<long> shape)
    {
        if (shape.Length == 0) return null;
        foreach (var d in shape) if (d <= 0) return null;
        if (Sparse24)
        {
            var length = shape[^1];
            if (shape.Length != 2 || length % Sparse24Layout.RowMultiple != 0 || length > int.MaxValue) return null;
            var sparseRowBytes = length / 2 * (Bits / 8) + length / 8;
            return shape[0] > long.MaxValue / sparseRowBytes ? long.MaxValue : shape[0] * sparseRowBytes;
        }
        if (!IsPacked)
        {
            long bytes = Bits / 8;
            foreach (var d in shape) bytes = bytes > long.MaxValue / d ? long.MaxValue : bytes * d;
            return bytes;
        }
        var cols = shape[^1];
        if (cols % TensorFormats.BlockSize != 0 || cols > int.MaxValue) return null;
        var rowBytes = cols * Bits / 8 + GroupsPerRow(cols) * ParamBytesPerGroup;
        var total = rowBytes;
        foreach (var d in shape[..^1]) total = total > long.MaxValue / d ? long.MaxValue : total * d;
        return total;
    }

    /// <summary>Offsets of the planes of a packed [rows, cols] tensor.</summary>
    public PackedLayout Layout(long rows, long cols)
    {
        if (!IsPacked) throw new InvalidOperationException($"{Name} is not a packed type.");
        if (cols % TensorFormats.BlockSize != 0)
            throw new ArgumentException($"{Name} needs a row length that is a multiple of {TensorFormats.BlockSize}; it is {cols}.", nameof(cols));
        var groups = GroupsPerRow(cols);
        var rowCodeBytes = cols * Bits / 8;
        var scales = checked(rows * rowCodeBytes);
        var mins = Scheme == QuantScheme.Asymmetric ? checked(scales + rows * groups * 2) : -1;
        return new PackedLayout(this, rows, cols, groups, rowCodeBytes, scales, mins, checked(scales + rows * groups * ParamBytesPerGroup));
    }

    public override string ToString() => Name;
}

/// <summary>Where the planes of one packed [rows, cols] tensor are, in bytes from its start.</summary>
public readonly record struct PackedLayout(
    TensorFormat Format, long Rows, long Cols, long GroupsPerRow, long RowCodeBytes, long ScalesOffset, long MinsOffset, long TotalBytes)
{
    public long CodesOffset(long row) => row * RowCodeBytes;

    /// <summary>Values in a full group of a row (<see cref="TensorFormat.GroupSizeFor"/>: the row for per-row types).</summary>
    public int GroupSize => Format.GroupSizeFor(Cols);

    /// <summary>Values in group <paramref name="group"/> of a row: the group size, or fewer for the last group.</summary>
    public int GroupLength(long group) => (int)Math.Min(GroupSize, Cols - group * GroupSize);

    /// <summary>Byte offset of the fp16 scale of (row, group).</summary>
    public long ScaleOffset(long row, long group) => ScalesOffset + (row * GroupsPerRow + group) * 2;

    /// <summary>Byte offset of the fp16 min of (row, group); asymmetric types only.</summary>
    public long MinOffset(long row, long group) => MinsOffset + (row * GroupsPerRow + group) * 2;
}

/// <summary>Where the planes of one 2:4 sparse [rows, cols] matrix are (see <see cref="TensorFormat.Sparse24"/>), in bytes from its start.</summary>
public readonly record struct Sparse24Layout(long Rows, long Cols, int ValueBytes)
{
    /// <summary>Rows are whole bytes of positions: two groups of 4.</summary>
    public const int RowMultiple = 8;

    public long RowValueBytes => Cols / 2 * ValueBytes;

    public long RowPositionBytes => Cols / 8;

    public long ValuesOffset(long row) => row * RowValueBytes;

    public long PositionsOffset(long row) => Rows * RowValueBytes + row * RowPositionBytes;

    public long TotalBytes => Rows * (RowValueBytes + RowPositionBytes);

    public static Sparse24Layout Of(TensorFormat format, long rows, long cols)
    {
        if (!format.Sparse24) throw new InvalidOperationException($"{format.Name} is not a 2:4 sparse type.");
        if (cols % RowMultiple != 0) throw new ArgumentException($"{format.Name} needs a row length that is a multiple of {RowMultiple}; it is {cols}.", nameof(cols));
        return new Sparse24Layout(rows, cols, format.Bits / 8);
    }
}

/// <summary>The traits table: one row per storage type. Tests loop over <see cref="All"/>.</summary>
public static class TensorFormats
{
    public static readonly IReadOnlyList<TensorFormat> All =
    [
        new(TensorType.F32, "f32", 32, 1, QuantScheme.None),
        new(TensorType.U8, "u8", 8, 1, QuantScheme.None),
        new(TensorType.F16, "f16", 16, 1, QuantScheme.None),
        new(TensorType.Q8G32, "q8_g32", 8, 32, QuantScheme.Symmetric),
        new(TensorType.Q8G64, "q8_g64", 8, 64, QuantScheme.Symmetric),
        new(TensorType.Q8G128, "q8_g128", 8, 128, QuantScheme.Symmetric),
        new(TensorType.Q4G32Sym, "q4_g32_sym", 4, 32, QuantScheme.Symmetric),
        new(TensorType.Q4G64Sym, "q4_g64_sym", 4, 64, QuantScheme.Symmetric),
        new(TensorType.Q4G128Sym, "q4_g128_sym", 4, 128, QuantScheme.Symmetric),
        new(TensorType.Q4G32Asym, "q4_g32_asym", 4, 32, QuantScheme.Asymmetric),
        new(TensorType.Q4G64Asym, "q4_g64_asym", 4, 64, QuantScheme.Asymmetric),
        new(TensorType.Q4G128Asym, "q4_g128_asym", 4, 128, QuantScheme.Asymmetric),
        new(TensorType.F32Sparse24, "f32_sparse24", 32, 1, QuantScheme.None) { Sparse24 = true },
        new(TensorType.F16Sparse24, "f16_sparse24", 16, 1, QuantScheme.None) { Sparse24 = true },
        new(TensorType.Q8Row, "q8_row", 8, 0, QuantScheme.Symmetric) { PerRow = true, Int8Activations = true },
    ];

    private static readonly TensorFormat[] ByType = All.OrderBy(f => (int)f.Type).ToArray();

    /// <summary>Packed rows are whole 32-value blocks (the unit of the int4 nibble order and of the kernels' loops).</summary>
    public const int BlockSize = 32;

    /// <summary>Group sizes the packed types come in.</summary>
    public static readonly IReadOnlyList<int> GroupSizes = [32, 64, 128];

    public static TensorFormat Of(TensorType type)
        => (uint)type < (uint)ByType.Length && ByType[(int)type].Type == type
            ? ByType[(int)type]
            : throw new ArgumentOutOfRangeException(nameof(type), type, null);

    /// <summary>The packed type with these properties, or null (e.g. 3 bits, group 48).</summary>
    public static TensorFormat? Find(int bits, int groupSize, QuantScheme scheme)
        => All.FirstOrDefault(f => f.Bits == bits && f.GroupSize == groupSize && f.Scheme == scheme && !f.PerRow);
}
