using ModelSdk.Architecture;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Import;

/// <summary>
/// What every importer yields: the architecture and named tensors in the artifact's naming
/// (<see cref="TensorNames"/>), backed by whatever the importer keeps alive (e.g. a memory-mapped file).
/// </summary>
public sealed class ImportedModel(LlamaConfig config, IReadOnlyList<ImportedTensor> tensors, IDisposable? owner) : IDisposable
{
    public LlamaConfig Config { get; } = config;

    public IReadOnlyList<ImportedTensor> Tensors { get; } = tensors;

    public void Dispose() => owner?.Dispose();
}

public sealed record ImportedTensor(string Name, TensorType Type, long[] Shape, TensorData Data);
