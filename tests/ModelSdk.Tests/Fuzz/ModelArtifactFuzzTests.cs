using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using ModelSdk.Artifacts;
using ModelSdk.Tensors;
using Xunit.Abstractions;

namespace ModelSdk.Tests.Fuzz;

/// <summary>
/// <c>.msdk</c> artifacts are untrusted input (a file next to the application): any bytes must open as an artifact whose
/// every tensor lies inside its data section, or fail with MSDK2002 (corrupt) or MSDK2003 (version), never another
/// exception and never a view past the mapping.
/// </summary>
public sealed unsafe class ModelArtifactFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Codes = ["MSDK2002", "MSDK2003"];

    private readonly Fuzz.Folder _folder = new();

    public void Dispose() => _folder.Dispose();

    // ---- whole-file mutations: flipped, inserted, deleted bytes, truncation, header fields with and without a fixed checksum

    public abstract record FileEdit
    {
        public sealed record Bytes(ByteMutation Mutation) : FileEdit
        {
            public override string ToString() => Mutation.ToString();
        }

        /// <summary>Sets a header field; with <paramref name="Rehashed"/> the header checksum is recomputed so later checks run.</summary>
        public sealed record HeaderField(int Offset, long Value, bool Rehashed) : FileEdit;

        /// <summary>Recomputes the header checksum after the edits before it.</summary>
        public sealed record Rehash : FileEdit;
    }

    private static readonly int[] HeaderFieldOffsets =
    [
        ArtifactFiles.VersionOffset, ArtifactFiles.FlagsOffset, ArtifactFiles.ManifestOffsetOffset, ArtifactFiles.ManifestLengthOffset,
        ArtifactFiles.DataOffsetOffset, ArtifactFiles.DataLengthOffset, ArtifactFiles.ManifestHashOffset, ArtifactFiles.ManifestHashOffset + 8,
        ArtifactFiles.DataHashOffset, ArtifactFiles.DataHashOffset + 8,
    ];

    /// <summary>Offsets and lengths that sit on the edges: zero, negative, unaligned, the real ones moved by one block, past 64 MiB, overflowing.</summary>
    private static readonly Gen<long> HeaderValue = Gen.Frequency(
        (2, Gen.Long),
        (2, Gen.Long[-200, 2000]),
        (4, Gen.OneOf(0L, -1L, 1L, 2L, 63L, 64L, 127L, 128L, 129L, 192L, 256L, 320L, 384L, 448L, 512L, 1024L, 2048L,
            int.MaxValue, uint.MaxValue, 64L << 20, (64L << 20) + 1, long.MaxValue, long.MinValue, long.MaxValue - 127, -128L)));

    private static readonly Gen<FileEdit> AnyFileEdit = Gen.Frequency(
        (5, ByteMutation.Any(Gen.Frequency((2, Gen.Int[0, 2047]), (2, Gen.Int[0, 127]), (1, Gen.Int[-256, -1]))).Select(m => (FileEdit)new FileEdit.Bytes(m))),
        (4, Gen.Select(Gen.OneOf(HeaderFieldOffsets), HeaderValue, Gen.Frequency((4, Gen.Const(true)), (1, Gen.Const(false))),
            (o, v, r) => (FileEdit)new FileEdit.HeaderField(o, v, r))),
        (1, Gen.Const((FileEdit)new FileEdit.Rehash())));

    [Fact]
    public void MutatedFiles_OpenOrFailWithTheDocumentedError()
    {
        var outcomes = new Fuzz.Outcomes();
        Fuzz.Sample(AnyFileEdit.Array[1, 4], edits => outcomes.Add(Read(ApplyFileEdits(ArtifactFiles.Small.File, edits))), iter: 10_000,
            print: e => $"[{string.Join(", ", e.Select(x => x.ToString()))}]");
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("ok", "MSDK2002", "MSDK2003");
    }

    [Fact]
    public void SmallArtifact_Opens()
    {
        Assert.Equal("ok", Open(ArtifactFiles.Small.File));
        Assert.Equal("ok", Open(ArtifactFiles.Build(ArtifactFiles.Small.Manifest, ArtifactFiles.Small.Data)));
    }

    /// <summary>Every header field at every edge value, with the checksum recomputed: only the section checks stand in the way.</summary>
    [Fact]
    public void EdgeHeaderFields_WithValidChecksum_OpenOrFailWithTheDocumentedError()
    {
        long[] values = [0, -1, 1, 63, 64, 127, 128, 129, 192, 256, 320, 384, 448, 512, 1024, int.MaxValue, uint.MaxValue,
            64L << 20, (64L << 20) + 1, long.MaxValue, long.MinValue, long.MaxValue - 127, -128];
        foreach (var offset in HeaderFieldOffsets)
        {
            foreach (var value in values)
                Open(ApplyFileEdits(ArtifactFiles.Small.File, [new FileEdit.HeaderField(offset, value, Rehashed: true)]));
        }
    }

    /// <summary>No hash covers the header's padding or the alignment bytes before the data: they must be zero, or a byte could change unnoticed.</summary>
    [Fact]
    public void NonZeroPadding_IsMSDK2002()
    {
        var file = ArtifactFiles.Small.File;
        var header = ArtifactFormat.Header.TryRead(file, out _)!.Value;
        var manifestEnd = (int)(header.ManifestOffset + header.ManifestLength);
        Assert.True(header.DataOffset > manifestEnd, "the small manifest should need alignment padding");
        foreach (var at in Enumerable.Range(96, 32).Concat(Enumerable.Range(manifestEnd, (int)header.DataOffset - manifestEnd)))
        {
            var damaged = (byte[])file.Clone();
            damaged[at] = 0x20;
            Assert.Equal("MSDK2002", Open(damaged));
        }
    }

    [Fact]
    public void OtherFormatVersion_IsMSDK2003()
    {
        var file = ArtifactFiles.Build(ArtifactFiles.Small.Manifest, ArtifactFiles.Small.Data, version: ArtifactFormat.Version + 1);
        Assert.Equal("MSDK2003", Open(file));
    }

    // ---- crafted manifests: valid checksums around a manifest whose JSON is edited, to reach the JSON and tensor-table checks

    /// <summary>Replaces (or, with a null <paramref name="Json"/>, removes) the value at a dotted path such as "tensors.1.offset"; "" is the document.</summary>
    public sealed record JsonEdit(string Path, string? Json);

    /// <summary>A manifest document that is not the small one edited: not JSON, not an object, nested too deep, ...</summary>
    public sealed record RawManifest(string Name);

    public sealed record ManifestCase(RawManifest? Raw, JsonEdit[] Edits, ByteMutation[] Mutations, FileEdit.HeaderField[] Header)
    {
        public override string ToString()
            => $"{(Raw is null ? "" : $"raw {Raw.Name}; ")}edits [{string.Join(", ", Edits.Select(e => e.ToString()))}]" +
               $"{(Mutations.Length == 0 ? "" : $"; json bytes [{string.Join(", ", Mutations.Select(m => m.ToString()))}]")}" +
               $"{(Header.Length == 0 ? "" : $"; header [{string.Join(", ", Header.Select(h => h.ToString()))}]")}";
    }

    private static string SmallJson => Encoding.UTF8.GetString(ArtifactFiles.Small.Manifest);

    private static readonly Dictionary<string, Func<byte[]>> RawManifests = BuildRawManifests();

    private static Dictionary<string, Func<byte[]>> BuildRawManifests()
    {
        var manifests = new Dictionary<string, Func<string>>
        {
            ["empty"] = () => "",
            ["space"] = () => " ",
            ["null"] = () => "null",
            ["{}"] = () => "{}",
            ["[]"] = () => "[]",
            ["0"] = () => "0",
            ["string"] = () => "\"manifest\"",
            ["open brace"] = () => "{",
            ["nul byte"] = () => "\0",
            ["nested 70 arrays"] = () => new string('[', 70) + new string(']', 70),
            ["nested 10000 arrays"] = () => new string('[', 10000),
            ["nested 70 objects in config"] = () => SmallJson.Replace("\"config\": {", "\"config\": {\"x\":" + string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70) + ","),
            ["trailing garbage"] = () => SmallJson + "}x",
            ["two documents"] = () => SmallJson + SmallJson,
            ["byte order mark"] = () => "\uFEFF" + SmallJson,
            ["in an array"] = () => "[" + SmallJson + "]",
            ["first half"] = () => SmallJson[..(SmallJson.Length / 2)],
            ["duplicate config"] = () => SmallJson.Replace("\"config\": {", "\"config\": null, \"config\": {"),
            ["duplicate tensors"] = () => SmallJson.Replace("\"tensors\": [", "\"tensors\": null, \"tensors\": ["),
            ["comment"] = () => "/* c */" + SmallJson,
            ["single quotes"] = () => SmallJson.Replace('"', '\''),
        }.ToDictionary(p => p.Key, p => (Func<byte[]>)(() => Encoding.UTF8.GetBytes(p.Value())));
        // Bytes that are not UTF-8 inside a string, and a lone surrogate escape.
        manifests["invalid utf-8 in a string"] = () =>
        {
            var json = (byte[])ArtifactFiles.Small.Manifest.Clone();
            var at = json.AsSpan().IndexOf("\"small\""u8) + 3;
            json[at] = 0xc3;
            json[at + 1] = 0x28;
            return json;
        };
        manifests["lone surrogate escape"] = () => Encoding.UTF8.GetBytes(SmallJson.Replace("\"small\"", "\"sm\\udc00all\""));
        return manifests;
    }

    /// <summary>Every property path of the small manifest, and a few that it lacks (appended tensors, new properties, deeper shapes).</summary>
    private static readonly string[] Paths = AllPaths(ArtifactFiles.SmallManifestNode(), "")
        .Concat(["", "tensors.4", "tensors.5", "tensors.0.shape.1", "tensors.1.shape.2", "tensors.0.shape.8", "config.extra", "tensors.0.extra", "extra"])
        .ToArray();

    private static IEnumerable<string> AllPaths(JsonNode? node, string prefix)
    {
        var children = node switch
        {
            JsonObject o => o.Select(p => (Key: p.Key, Value: p.Value)).ToList(),
            JsonArray a => a.Select((v, i) => (Key: i.ToString(), Value: v)).ToList(),
            _ => [],
        };
        foreach (var (key, value) in children)
        {
            var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            yield return path;
            foreach (var inner in AllPaths(value, path)) yield return inner;
        }
    }

    private static string Tensor(string name, string type, string shape, long offset, long length)
        => $$"""{"name":"{{name}}","type":"{{type}}","shape":{{shape}},"offset":{{offset}},"length":{{length}}}""";

    /// <summary>JSON values that break one rule each: sign, size, alignment, range, type, overlap, nesting.</summary>
    private static readonly string[] Values = BuildValues();

    private static string[] BuildValues()
    {
        var data = ArtifactFiles.Small.Data.Length;
        return
        [
            "null", "0", "1", "-1", "2", "3", "4", "7", "8", "12", "16", "63", "64", "65", "-64", "128", "192", "4096",
            $"{data}", $"{data - 64}", $"{data + 64}", $"{data * 2}", "2147483647", "2147483648", "-2147483648", "4294967296",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "9223372036854775744", "1e400", "1.5", "-0", "1e3",
            "true", "false", "\"\"", "\"x\"", "\"m\"", "\"f32\"", "\"u8\"", "\"q4_0\"", "\"F32\"", "\"\\u0000\"", "\"3\"",
            "\"modelsdk.manifest/1\"", "\"modelsdk.manifest/2\"", "\"NaN\"", "\"-Infinity\"", "\"llama\"",
            "[]", "{}", "[0]", "[-1]", "[3]", "[2,4]", "[4,2]", "[8]", "[1,1,1,1,1,1,1,1]", "[1,1,1,1,1,1,1,1,1]", "[9223372036854775807]",
            "[4294967296,4294967296]", "[3037000500,3037000500]", "[null]", "[[]]", "[1.5]", "\"[3]\"", "[{}]", "[\"x\"]",
            Tensor("x", "f32", "[3]", 0, 12),
            Tensor("z", "f32", "[1]", 4, 4),
            Tensor("z", "f32", "[16]", 0, 64),
            Tensor("z", "u8", "[1]", data, 1),
            Tensor("z", "u8", "[64]", data - 64, 64),
            Tensor("z", "u8", "[65]", data - 64, 65),
            Tensor("z", "u8", "[1]", -64, 1),
            Tensor("z", "f32", "[-1]", 0, -4),
            Tensor("z", "f32", "[4611686018427387904]", 0, 0),
            Tensor("z", "f64", "[1]", 0, 8),
            Tensor("", "u8", "[1]", 0, 1),
            """{"name":null,"type":null,"shape":null,"offset":0,"length":0}""",
            """{"name":"z"}""",
            """[{"name":"p","version":1,"options":{"a":"1","a":"2"}}]""",
            """[{"name":"p","version":1,"options":null}]""",
            """[{"role":"checkpoint","file":"a","bytes":-1,"xxh128":null}]""",
            """[null]""",
        ];
    }

    private static readonly Gen<JsonEdit> AnyJsonEdit = Gen.Select(
        Gen.OneOf(Paths), Gen.Frequency((9, Gen.OneOf(Values)), (1, Gen.Const((string?)null))),
        (p, v) => new JsonEdit(p, v));

    private static readonly Gen<ManifestCase> ManifestCases =
        from raw in Gen.Frequency((12, Gen.Const((RawManifest?)null)), (1, Gen.OneOf(RawManifests.Keys.ToArray()).Select(k => (RawManifest?)new RawManifest(k))))
        from edits in Gen.Frequency((1, Gen.Const(Array.Empty<JsonEdit>())), (8, AnyJsonEdit.Array[1, 3]))
        from mutations in Gen.Frequency((6, Gen.Const(Array.Empty<ByteMutation>())), (1, ByteMutation.Any(Gen.Int[0, 2047]).Array[1, 2]))
        from header in Gen.Frequency((8, Gen.Const(Array.Empty<FileEdit.HeaderField>())),
            (1, Gen.Select(Gen.OneOf(HeaderFieldOffsets[..6]), HeaderValue, (o, v) => new FileEdit.HeaderField(o, v, Rehashed: true)).Array[1, 1]))
        select new ManifestCase(raw, edits, mutations, header);

    [Fact]
    public void CraftedManifests_WithValidChecksums_OpenOrFailWithTheDocumentedError()
    {
        var outcomes = new Fuzz.Outcomes();
        Fuzz.Sample(ManifestCases, c => outcomes.Add(Read(Build(c))), iter: 6000);
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("ok", "MSDK2002", "MSDK2003");
    }

    /// <summary>The cases the reader exists for, each with the exact code it must give.</summary>
    [Theory]
    [InlineData("tensors.0.shape", "[-3]", "MSDK2002")]
    [InlineData("tensors.0.shape", "[0]", "MSDK2002")]
    [InlineData("tensors.0.shape", "[]", "MSDK2002")]
    [InlineData("tensors.0.shape", "null", "MSDK2002")]
    [InlineData("tensors.0.shape", "[1,1,1,1,1,1,1,1,3]", "MSDK2002")]
    [InlineData("tensors.0.shape", "[9223372036854775807]", "MSDK2002")]
    [InlineData("tensors.0.shape", "[3037000500,3037000500]", "MSDK2002")]
    [InlineData("tensors.0.length", "-12", "MSDK2002")]
    [InlineData("tensors.0.length", "9223372036854775807", "MSDK2002")]
    [InlineData("tensors.1.offset", "0", "MSDK2002")] // overlaps x
    [InlineData("tensors.1.offset", "-64", "MSDK2002")]
    [InlineData("tensors.1.offset", "4", "MSDK2002")] // unaligned
    [InlineData("tensors.3.offset", "9223372036854775744", "MSDK2002")] // beyond the data, aligned
    [InlineData("tensors.3.offset", "4096", "MSDK2002")]
    [InlineData("tensors.2.type", "\"q4_0\"", "MSDK2002")]
    [InlineData("tensors.2.type", "null", "MSDK2002")]
    [InlineData("tensors.2.name", "\"x\"", "MSDK2002")] // repeated
    [InlineData("tensors.2.name", "\"\"", "MSDK2002")]
    [InlineData("tensors.2.name", "null", "MSDK2002")]
    [InlineData("tensors.2", "null", "MSDK2002")]
    [InlineData("tensors", "null", "MSDK2002")]
    [InlineData("tensors", null, "MSDK2002")]
    [InlineData("tensors", "{}", "MSDK2002")]
    [InlineData("config", "null", "MSDK2002")]
    [InlineData("config", null, "MSDK2002")]
    [InlineData("config.dim", "-8", "MSDK2002")]
    [InlineData("config.dim", "4294967296", "MSDK2002")]
    [InlineData("config.heads", "0", "MSDK2002")]
    [InlineData("tokenizer", "null", "MSDK2002")]
    [InlineData("provenance", "null", "MSDK2002")]
    [InlineData("name", "null", "MSDK2002")]
    [InlineData("weightFormat", "null", "MSDK2002")]
    [InlineData("", "[]", "MSDK2002")]
    [InlineData("", "null", "MSDK2002")]
    [InlineData("schema", "\"modelsdk.manifest/2\"", "MSDK2003")]
    [InlineData("schema", "null", "MSDK2002")]
    [InlineData("tokenizer.blob", "null", "MSDK2002")]
    [InlineData("provenance.inputs", "null", "MSDK2002")]
    [InlineData("provenance.inputs.0.xxh128", "null", "MSDK2002")]
    [InlineData("tensors.4", """{"name":"z","type":"u8","shape":[1],"offset":4096,"length":1}""", "MSDK2002")]
    public void InvalidManifest_HasItsCode(string path, string? json, string code)
        => Assert.Equal(code, Open(Build(new ManifestCase(null, [new JsonEdit(path, json)], [], []))));

    [Fact]
    public void EveryRawManifest_OpensOrFailsWithTheDocumentedError()
    {
        var results = RawManifests.Keys.ToDictionary(name => name, name => Open(Build(new ManifestCase(new RawManifest(name), [], [], []))));
        output.WriteLine(string.Join(Environment.NewLine, results.Select(r => $"{r.Key}: {r.Value}")));
        foreach (var (name, result) in results)
        {
            // A repeated property takes its last value, as System.Text.Json does.
            if (name is not ("duplicate config" or "duplicate tensors")) Assert.True(result == "MSDK2002", $"{name}: {result}");
        }
    }

    // ---- helpers

    private static byte[] ApplyFileEdits(byte[] file, IEnumerable<FileEdit> edits)
    {
        foreach (var edit in edits)
        {
            switch (edit)
            {
                case FileEdit.Bytes(var mutation):
                    file = mutation.Apply(file);
                    break;
                case FileEdit.HeaderField(var offset, var value, var rehash):
                    file = (byte[])file.Clone();
                    ArtifactFiles.WriteField(file, offset, value);
                    if (rehash) ArtifactFiles.RehashHeader(file);
                    break;
                case FileEdit.Rehash:
                    file = (byte[])file.Clone();
                    ArtifactFiles.RehashHeader(file);
                    break;
            }
        }
        return file;
    }

    private static byte[] Build(ManifestCase c)
    {
        var manifest = c.Raw is { } raw ? RawManifests[raw.Name]() : ArtifactFiles.Small.Manifest;
        if (c.Edits.Length > 0)
        {
            var edited = manifest;
            try
            {
                var root = JsonNode.Parse(edited, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
                foreach (var edit in c.Edits) root = Apply(root, edit, ref edited);
                if (root is not null) edited = Encoding.UTF8.GetBytes(root.ToJsonString());
                manifest = edited;
            }
            catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
            {
                // A raw document that JsonNode cannot edit (not JSON, repeated properties, bad escapes): it is used as it is.
            }
        }
        manifest = ByteMutation.ApplyAll(manifest, c.Mutations);
        return ApplyFileEdits(ArtifactFiles.Build(manifest, ArtifactFiles.Small.Data), c.Header);
    }

    private static JsonNode? Apply(JsonNode? root, JsonEdit edit, ref byte[] manifest)
    {
        if (edit.Path.Length == 0)
        {
            if (edit.Json is null) return root;
            manifest = Encoding.UTF8.GetBytes(edit.Json);
            return JsonNode.Parse(edit.Json);
        }
        var segments = edit.Path.Split('.');
        var parent = root;
        foreach (var segment in segments[..^1])
        {
            parent = parent switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (parent is null) return root;
        }
        var last = segments[^1];
        var value = edit.Json is null ? null : JsonNode.Parse(edit.Json);
        switch (parent)
        {
            case JsonObject o when edit.Json is null:
                o.Remove(last);
                break;
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when int.TryParse(last, out var i):
                if (edit.Json is null && i < a.Count) a.RemoveAt(i);
                else if (edit.Json is not null && i < a.Count) a[i] = value;
                else if (edit.Json is not null && i == a.Count) a.Add(value);
                break;
        }
        return root;
    }

    /// <summary>Writes the file, opens it and returns "ok" or the error code; an artifact that opened must be usable.</summary>
    private string Open(byte[] file)
    {
        var path = _folder.NewFile(ArtifactFormat.FileExtension);
        File.WriteAllBytes(path, file);
        try
        {
            string? code = null;
            using var artifact = Fuzz.SuccessOr(() => ModelArtifact.Open(path), Codes, e =>
            {
                code = e.Code.Id;
                Assert.Equal(path, e.FilePath);
            });
            if (artifact is null) return code!;
            AssertUsable(artifact, file);
            return "ok";
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The reader behind <see cref="ModelArtifact.Open"/> on bytes in memory (no file, no mapping: thousands of cases in
    /// seconds): "ok" or the error code, allocating no more than a small multiple of the file's size.
    /// </summary>
    private static string Read(byte[] file)
    {
        string? code = null;
        fixed (byte* pointer = file)
        {
            var address = (nint)pointer;
            var contents = Fuzz.SuccessOr(() => Tuple.Create(ModelArtifact.Read((byte*)address, file.Length, "model.msdk")), Codes,
                Fuzz.AllocationLimit(file.Length, 16), e =>
                {
                    code = e.Code.Id;
                    Assert.Equal("model.msdk", e.FilePath);
                });
            if (contents is null) return code!;
            var (manifest, tensors, dataOffset) = contents.Item1;
            AssertComplete(manifest);
            var header = ArtifactFormat.Header.TryRead(file, out _)!.Value;
            Assert.Equal(header.DataOffset, dataOffset);
            Assert.Equal(manifest.Tensors!.Count, tensors.Count);
            foreach (var entry in tensors.Values) AssertInside(entry, header);
            return "ok";
        }
    }

    private static void AssertComplete(ArtifactManifest manifest)
    {
        Assert.Equal(ArtifactManifest.CurrentSchema, manifest.Schema);
        Assert.NotNull(manifest.Name);
        Assert.NotNull(manifest.Config);
        Assert.Null(manifest.Config.Validate());
        Assert.NotNull(manifest.WeightFormat);
        Assert.NotNull(manifest.Tokenizer);
        Assert.NotNull(manifest.Provenance);
        Assert.NotNull(manifest.Tensors);
    }

    private static void AssertInside(TensorEntry entry, ArtifactFormat.Header header)
    {
        Assert.False(string.IsNullOrEmpty(entry.Name));
        Assert.True(TensorTypeExtensions.TryParse(entry.Type, out var type));
        Assert.Equal(entry.Length, type.ByteLength(entry.Shape));
        Assert.Equal(0, entry.Offset % ArtifactFormat.Alignment);
        Assert.InRange(entry.Offset, 0, header.DataLength - entry.Length);
    }

    /// <summary>What the runtime relies on after Open: a complete manifest and tensors inside the data section.</summary>
    private static void AssertUsable(ModelArtifact artifact, byte[] file)
    {
        AssertComplete(artifact.Manifest);
        var header = ArtifactFormat.Header.TryRead(file, out _)!.Value;
        foreach (var entry in artifact.Tensors)
        {
            AssertInside(entry, header);
            var bytes = artifact.GetBytes(entry.Name);
            Assert.Equal(file.AsSpan((int)(header.DataOffset + entry.Offset), (int)entry.Length).ToArray(), bytes.ToArray());
        }
    }
}
