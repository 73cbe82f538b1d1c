using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Text.Json;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Artifacts;

/// <summary>
/// A memory-mapped <c>.msdk</c> artifact. Opening validates everything before any tensor is handed out:
/// header checksum, section bounds against the file length, manifest and data hashes, and every tensor's
/// type, shape, alignment and range. Tensors are views into the mapping: loading copies nothing.
/// </summary>
public sealed unsafe class ModelArtifact : IDisposable
{
    private const long MaxManifestBytes = 64L << 20;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataOffset;
    private readonly Dictionary<string, TensorEntry> _tensors;
    private bool _disposed;

    private ModelArtifact(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer,
        long dataOffset, ArtifactManifest manifest, Dictionary<string, TensorEntry> tensors)
    {
        FilePath = path;
        _map = map;
        _view = view;
        _base = basePointer;
        _dataOffset = dataOffset;
        Manifest = manifest;
        _tensors = tensors;
    }

    public string FilePath { get; }

    public ArtifactManifest Manifest { get; }

    public IEnumerable<TensorEntry> Tensors => _tensors.Values;

    public static ModelArtifact Open(string path)
    {
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.ArtifactNotFound, "The model artifact does not exist.", path);

        var fileLength = FileLength.Of(path);
        if (fileLength < ArtifactFormat.HeaderSize) throw Corrupt(path, "it is shorter than the 128-byte header");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* basePointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
            acquired = true;
            basePointer += view.PointerOffset;
            var (manifest, tensors, dataOffset) = Read(basePointer, fileLength, path);
            return new ModelArtifact(path, map, view, basePointer, dataOffset, manifest, tensors);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates the bytes of a whole artifact (<paramref name="fileLength"/> of them at <paramref name="file"/>) and returns
    /// its manifest, tensor table and data offset; MSDK2002/MSDK2003 for anything else. Nothing is allocated in
    /// proportion to a size the file declares: sections are checked against the real length first.
    /// </summary>
    internal static (ArtifactManifest Manifest, Dictionary<string, TensorEntry> Tensors, long DataOffset) Read(byte* file, long fileLength, string path)
    {
        if (fileLength < ArtifactFormat.HeaderSize) throw Corrupt(path, "it is shorter than the 128-byte header");
        var header = ArtifactFormat.Header.TryRead(new ReadOnlySpan<byte>(file, ArtifactFormat.HeaderSize), out var problem)
            ?? throw Corrupt(path, problem!);
        if (header.Version != ArtifactFormat.Version)
            throw new ModelSdkException(DiagnosticCodes.ArtifactVersionUnsupported,
                $"The artifact has format version {header.Version}; this ModelSdk reads version {ArtifactFormat.Version}.", path);
        if (header.ManifestOffset != ArtifactFormat.HeaderSize || header.ManifestLength <= 0 || header.ManifestLength > MaxManifestBytes
            || header.DataOffset != ArtifactFormat.Align(header.ManifestOffset + header.ManifestLength)
            || header.DataLength < 0 || header.DataOffset > fileLength || header.DataLength != fileLength - header.DataOffset)
            throw Corrupt(path, "its section offsets do not fit the file's length");

        var manifestSpan = new ReadOnlySpan<byte>(file + header.ManifestOffset, (int)header.ManifestLength);
        if (XxHash128.HashToUInt128(manifestSpan) != header.ManifestHash)
            throw Corrupt(path, "its manifest checksum does not match");
        var manifestEnd = header.ManifestOffset + header.ManifestLength;
        if (new ReadOnlySpan<byte>(file + manifestEnd, (int)(header.DataOffset - manifestEnd)).ContainsAnyExcept((byte)0))
            throw Corrupt(path, "its padding before the tensor data is not zero");
        if (HashData(file + header.DataOffset, header.DataLength) != header.DataHash)
            throw Corrupt(path, "its tensor data checksum does not match");

        ArtifactManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestSpan, ManifestJsonContext.Default.ArtifactManifest)
                ?? throw Corrupt(path, "its manifest is empty");
        }
        catch (JsonException e)
        {
            throw Corrupt(path, $"its manifest is not valid JSON or lacks a required value ({e.Message})");
        }
        if (manifest.Schema != ArtifactManifest.CurrentSchema)
            throw new ModelSdkException(DiagnosticCodes.ArtifactVersionUnsupported,
                $"The artifact's manifest schema is '{manifest.Schema}'; this ModelSdk reads '{ArtifactManifest.CurrentSchema}'.", path);
        if (manifest.Config.Validate() is { } shapeProblem)
            throw Corrupt(path, $"its model shape is invalid: {shapeProblem}");

        return (manifest, ValidateTensorTable(path, manifest.Tensors, header.DataLength), header.DataOffset);
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public TensorEntry GetEntry(string name)
        => _tensors.TryGetValue(name, out var entry)
            ? entry
            : throw Corrupt(FilePath, $"it has no tensor '{name}'");

    /// <summary>The address of a tensor's first byte; valid until the artifact is disposed.</summary>
    public byte* GetPointer(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _base + _dataOffset + GetEntry(name).Offset;
    }

    /// <summary>A tensor's bytes (tensors over 2 GiB must be read through <see cref="GetPointer"/>).</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => new(GetPointer(name), checked((int)GetEntry(name).Length));

    /// <summary>A tensor's elements as the given type, after checking that type against the tensor table.</summary>
    public ReadOnlySpan<T> GetSpan<T>(string name, TensorType type) where T : unmanaged
    {
        var entry = GetEntry(name);
        if (entry.Type != type.ToManifestName())
            throw Corrupt(FilePath, $"tensor '{name}' is stored as {entry.Type}, expected {type.ToManifestName()}");
        return new ReadOnlySpan<T>(GetPointer(name), checked((int)(entry.Length / sizeof(T))));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    private static Dictionary<string, TensorEntry> ValidateTensorTable(string path, IReadOnlyList<TensorEntry>? table, long dataLength)
    {
        if (table is null) throw Corrupt(path, "its manifest has no tensor table");
        if (table.Any(t => t is null)) throw Corrupt(path, "its tensor table has a null entry");
        var byName = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        long previousEnd = 0;
        foreach (var entry in table.OrderBy(t => t.Offset))
        {
            if (string.IsNullOrEmpty(entry.Name) || !byName.TryAdd(entry.Name, entry))
                throw Corrupt(path, $"its tensor table has an empty or repeated name '{entry.Name}'");
            if (!TensorTypeExtensions.TryParse(entry.Type, out var type))
                throw Corrupt(path, $"tensor '{entry.Name}' has unknown type '{entry.Type}'");
            if (entry.Shape is null || entry.Shape.Length is 0 or > 8)
                throw Corrupt(path, $"tensor '{entry.Name}' has no valid shape");
            foreach (var d in entry.Shape)
            {
                if (d <= 0 || d > dataLength) throw Corrupt(path, $"tensor '{entry.Name}' has dimension {d}");
            }
            // Packed (quantized) types: the traits table gives the exact byte length, or null when the group size does not divide the rows.
            var bytes = type.ByteLength(entry.Shape)
                ?? throw Corrupt(path, $"tensor '{entry.Name}' of type {entry.Type} cannot have shape [{string.Join(", ", entry.Shape)}]");
            if (bytes != entry.Length || entry.Offset % ArtifactFormat.Alignment != 0 || entry.Offset < previousEnd
                || entry.Length > dataLength - entry.Offset)
                throw Corrupt(path, $"tensor '{entry.Name}' does not fit the data section");
            previousEnd = entry.Offset + entry.Length;
        }
        return byName;
    }

    private static UInt128 HashData(byte* data, long length)
    {
        var hash = new XxHash128();
        const int chunk = 1 << 26;
        for (long at = 0; at < length; at += chunk)
            hash.Append(new ReadOnlySpan<byte>(data + at, (int)Math.Min(chunk, length - at)));
        return hash.GetCurrentHashAsUInt128();
    }

    private static ModelSdkException Corrupt(string path, string problem)
        => new(DiagnosticCodes.ArtifactCorrupt, $"The model artifact cannot be used: {problem}.", path);
}
