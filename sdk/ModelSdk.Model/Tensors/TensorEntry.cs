namespace ModelSdk.Tensors;

/// <summary>One tensor in an artifact's tensor table: where its bytes are, relative to the data section.</summary>
public sealed record TensorEntry
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public required long[] Shape { get; init; }
    public required long Offset { get; init; }
    public required long Length { get; init; }
}
