namespace ModelSdk.Tensors;

/// <summary>
/// Element types a tensor can be stored in. The manifest spells them with <see cref="TensorTypeExtensions.ToManifestName"/>
/// ("f32", "q8_g32", "q4_g64_sym", ...). What each one means (bits, group size, bytes, packed layout) is in the one traits
/// table <see cref="TensorFormats"/>; never switch on these values elsewhere when the table can answer.
/// </summary>
public enum TensorType
{
    F32,

    /// <summary>Raw bytes: embedded files such as the tokenizer.</summary>
    U8,

    /// <summary>IEEE half precision, row-major like f32.</summary>
    F16,

    /// <summary>int8 symmetric, groups of 32 along each row, fp16 scale per group (ggml's Q8_0 numbers, planar layout).</summary>
    Q8G32,
    Q8G64,
    Q8G128,

    /// <summary>int4 symmetric (code − 8) · scale, groups of 32, fp16 scale (ggml's Q4_0 numbers, planar layout).</summary>
    Q4G32Sym,
    Q4G64Sym,
    Q4G128Sym,

    /// <summary>int4 asymmetric code · scale + min, groups of 32, fp16 scale and min (ggml's Q4_1 numbers, planar layout).</summary>
    Q4G32Asym,
    Q4G64Asym,
    Q4G128Asym,

    /// <summary>2:4 sparse fp32: the two kept values of every 4 inputs, and their positions in 2 bits each (see <see cref="TensorFormat.Sparse24"/>).</summary>
    F32Sparse24,

    /// <summary>2:4 sparse fp16: as <see cref="F32Sparse24"/> with IEEE half values.</summary>
    F16Sparse24,

    /// <summary>
    /// int8 symmetric with one fp16 scale per row (per output channel), multiplied with int8 activations quantized per
    /// token at run time: SmoothQuant's W8A8 (see <see cref="TensorFormat.PerRow"/>).
    /// </summary>
    Q8Row,
}

public static class TensorTypeExtensions
{
    /// <summary>Bytes per element of an unpacked type (f32, f16, u8); packed types have no per-element size: use <see cref="ByteLength"/>.</summary>
    public static int ElementSize(this TensorType type)
    {
        var format = TensorFormats.Of(type);
        return format.IsPacked || format.Sparse24
            ? throw new ArgumentOutOfRangeException(nameof(type), type, $"{format.Name} is a packed type; use ByteLength(shape).")
            : format.Bits / 8;
    }

    /// <summary>The bytes a tensor of this type and shape occupies, or null when the shape does not fit the type (see <see cref="TensorFormat.ByteLength"/>).</summary>
    public static long? ByteLength(this TensorType type, ReadOnlySpan<long> shape) => TensorFormats.Of(type).ByteLength(shape);

    public static bool IsPacked(this TensorType type) => TensorFormats.Of(type).IsPacked;

    public static string ToManifestName(this TensorType type) => TensorFormats.Of(type).Name;

    public static bool TryParse(string? name, out TensorType type)
    {
        foreach (var format in TensorFormats.All)
        {
            if (format.Name == name) { type = format.Type; return true; }
        }
        type = default;
        return false;
    }
}
