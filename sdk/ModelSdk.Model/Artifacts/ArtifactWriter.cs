using System.IO.Hashing;
using System.Text.Json;
using ModelSdk.Tensors;

namespace ModelSdk.Artifacts;

/// <summary>
/// Writes a <c>.msdk</c> artifact (<see cref="ArtifactFormat"/>). The file appears atomically: it is written
/// to a temporary name beside the target, flushed to disk, then renamed over the target, so a killed build
/// leaves either the old artifact or the new one, never half of one.
/// </summary>
public sealed class ArtifactWriter
{
    private readonly List<(TensorEntry Entry, TensorData Data)> _tensors = [];
    private long _dataLength;

    public void Add(string name, TensorType type, long[] shape, TensorData data)
    {
        var expected = type.ByteLength(shape)
            ?? throw new ArgumentException($"Tensor '{name}' of type {type.ToManifestName()} cannot have shape [{string.Join(", ", shape)}].");
        if (expected != data.Length)
            throw new ArgumentException($"Tensor '{name}' has {data.Length} bytes, its shape needs {expected}.");
        if (_tensors.Any(t => t.Entry.Name == name))
            throw new ArgumentException($"Tensor '{name}' was added twice.");

        var offset = ArtifactFormat.Align(_dataLength);
        _tensors.Add((new TensorEntry { Name = name, Type = type.ToManifestName(), Shape = shape, Offset = offset, Length = data.Length }, data));
        _dataLength = offset + data.Length;
    }

    /// <summary>The manifest as written: <paramref name="manifest"/> with this writer's tensor table.</summary>
    public ArtifactManifest WithTensorTable(ArtifactManifest manifest) => manifest with { Tensors = _tensors.Select(t => t.Entry).ToArray() };

    public void Write(string path, ArtifactManifest manifest)
    {
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(WithTensorTable(manifest), ManifestJsonContext.Default.ArtifactManifest);
        long manifestOffset = ArtifactFormat.HeaderSize;
        long dataOffset = ArtifactFormat.Align(manifestOffset + manifestBytes.Length);
        long dataLength = ArtifactFormat.Align(_dataLength);

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                file.Write(new byte[ArtifactFormat.HeaderSize]);
                file.Write(manifestBytes);
                WriteZeros(file, dataOffset - file.Position);

                var dataHash = new XxHash128();
                long written = 0;
                void Emit(ReadOnlySpan<byte> bytes)
                {
                    file.Write(bytes);
                    dataHash.Append(bytes);
                    written += bytes.Length;
                }
                foreach (var (entry, data) in _tensors)
                {
                    EmitZeros(entry.Offset - written, Emit);
                    data.WriteTo(Emit);
                }
                EmitZeros(dataLength - written, Emit);

                var header = new ArtifactFormat.Header(
                    ArtifactFormat.Version, 0, manifestOffset, manifestBytes.Length, dataOffset, dataLength,
                    XxHash128.HashToUInt128(manifestBytes), dataHash.GetCurrentHashAsUInt128());
                var headerBytes = new byte[ArtifactFormat.HeaderSize];
                header.Write(headerBytes);
                file.Position = 0;
                file.Write(headerBytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static void WriteZeros(Stream stream, long count) => EmitZeros(count, stream.Write);

    private static void EmitZeros(long count, ByteSink sink)
    {
        Span<byte> zeros = stackalloc byte[ArtifactFormat.Alignment];
        zeros.Clear();
        for (; count > 0; count -= zeros.Length)
            sink(zeros[..(int)Math.Min(count, zeros.Length)]);
    }
}
