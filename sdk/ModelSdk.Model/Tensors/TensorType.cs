namespace ModelSdk.Tensors;

/// <summary>Element types a tensor can be stored in. The manifest spells them in lower case ("f32").</summary>
public enum TensorType
{
    F32,

    /// <summary>Raw bytes: embedded files such as the tokenizer.</summary>
    U8,
}

public static class TensorTypeExtensions
{
    public static int ElementSize(this TensorType type) => type switch
    {
        TensorType.F32 => 4,
        TensorType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static string ToManifestName(this TensorType type) => type.ToString().ToLowerInvariant();

    public static bool TryParse(string? name, out TensorType type)
    {
        foreach (var candidate in Enum.GetValues<TensorType>())
        {
            if (candidate.ToManifestName() == name) { type = candidate; return true; }
        }
        type = default;
        return false;
    }
}
