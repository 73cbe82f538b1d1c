using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json.Nodes;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Fuzz;

/// <summary>
/// Test-only builders of <c>.msdk</c> bytes. The header, manifest and data are hash-protected, so a flipped byte stops
/// at the first checksum; these write files with any manifest and any header fields and valid checksums, to reach the
/// checks behind them (section bounds, manifest JSON, tensor table).
/// </summary>
internal static class ArtifactFiles
{
    public const int VersionOffset = 8, FlagsOffset = 12, ManifestOffsetOffset = 16, ManifestLengthOffset = 24,
        DataOffsetOffset = 32, DataLengthOffset = 40, ManifestHashOffset = 48, DataHashOffset = 64, HeaderHashOffset = 80;

    /// <summary>A small valid artifact written by <see cref="ArtifactWriter"/>: the whole file, its manifest JSON and its data section.</summary>
    public static (byte[] File, byte[] Manifest, byte[] Data) Small => LazySmall.Value;

    private static readonly Lazy<(byte[], byte[], byte[])> LazySmall = new(WriteSmall);

    /// <summary>Tensor names and types of <see cref="Small"/>, in data order.</summary>
    public static readonly (string Name, TensorType Type, long[] Shape)[] SmallTensors =
    [
        ("x", TensorType.F32, [3]),
        ("m", TensorType.F32, [2, 4]),
        ("blob", TensorType.U8, [5]),
        ("tokenizer.model", TensorType.U8, [70]),
    ];

    /// <summary>A file with this manifest and data section, in the writer's layout, with every checksum valid.</summary>
    public static byte[] Build(ReadOnlySpan<byte> manifest, ReadOnlySpan<byte> data, uint version = ArtifactFormat.Version)
    {
        long dataOffset = ArtifactFormat.Align(ArtifactFormat.HeaderSize + manifest.Length);
        var file = new byte[dataOffset + data.Length];
        manifest.CopyTo(file.AsSpan(ArtifactFormat.HeaderSize));
        data.CopyTo(file.AsSpan((int)dataOffset));
        new ArtifactFormat.Header(version, 0, ArtifactFormat.HeaderSize, manifest.Length, dataOffset, data.Length,
            XxHash128.HashToUInt128(manifest), XxHash128.HashToUInt128(data)).Write(file);
        return file;
    }

    /// <summary>Recomputes the header checksum over bytes [0, 80) after header fields were edited (a no-op on a file too short to have one).</summary>
    public static void RehashHeader(Span<byte> file)
    {
        if (file.Length < HeaderHashOffset + 16) return;
        BinaryPrimitives.WriteUInt128LittleEndian(file[HeaderHashOffset..], XxHash128.HashToUInt128(file[..HeaderHashOffset]));
    }

    /// <summary>Writes a header field: the version and flags are u32, offsets and lengths i64, hashes 2 x u64.</summary>
    public static void WriteField(Span<byte> file, int offset, long value)
    {
        if (offset is VersionOffset or FlagsOffset)
        {
            if (file.Length >= offset + 4) BinaryPrimitives.WriteUInt32LittleEndian(file[offset..], unchecked((uint)value));
        }
        else if (file.Length >= offset + 8)
        {
            BinaryPrimitives.WriteInt64LittleEndian(file[offset..], value);
        }
    }

    public static JsonObject SmallManifestNode() => JsonNode.Parse(Small.Manifest)!.AsObject();

    private static (byte[], byte[], byte[]) WriteSmall()
    {
        var writer = new ArtifactWriter();
        var fill = 0;
        foreach (var (name, type, shape) in SmallTensors)
        {
            var elements = (int)shape.Aggregate(1L, (n, d) => n * d);
            var data = type == TensorType.F32
                ? TensorData.FromFloats(Enumerable.Range(fill, elements).Select(i => (float)i).ToArray())
                : TensorData.FromBytes(Enumerable.Range(fill, elements).Select(i => (byte)i).ToArray());
            fill += elements;
            writer.Add(name, type, shape, data);
        }
        var folder = Directory.CreateTempSubdirectory("modelsdk-fuzz-").FullName;
        try
        {
            var path = Path.Combine(folder, "small.msdk");
            writer.Write(path, new ArtifactManifest
            {
                Name = "small",
                Config = new LlamaConfig { Dim = 8, HiddenDim = 16, Layers = 1, Heads = 2, KvHeads = 1, VocabSize = 4, ContextLength = 8, SharedClassifier = true },
                WeightFormat = "f32",
                Tokenizer = new TokenizerInfo { VocabSize = 4 },
                Provenance = new Provenance
                {
                    SdkVersion = "test",
                    Inputs = [new InputFile("checkpoint", "small.bin", 1234, new string('0', 32))],
                    Passes = [new PassRecord("quantize", 1, new Dictionary<string, string> { ["format"] = "f32" })],
                },
            });
            var file = File.ReadAllBytes(path);
            var header = ArtifactFormat.Header.TryRead(file, out var problem) ?? throw new InvalidOperationException(problem);
            return (file,
                file.AsSpan((int)header.ManifestOffset, (int)header.ManifestLength).ToArray(),
                file.AsSpan((int)header.DataOffset, (int)header.DataLength).ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
