using System.Buffers.Binary;
using CsCheck;
using ModelSdk.Architecture;
using ModelSdk.Compression.Import;
using ModelSdk.Diagnostics;
using Xunit.Abstractions;

namespace ModelSdk.Tests.Fuzz;

/// <summary>
/// llama2.c checkpoints are untrusted input: any header and any length must give a model or MSDK1002/MSDK1003
/// (MSDK1001 only for a missing file), never another exception, a huge allocation or a view past the file's end.
/// </summary>
public sealed class Llama2CheckpointFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Codes = ["MSDK1001", "MSDK1002", "MSDK1003"];
    private const int HeaderBytes = 28;

    /// <summary>Files that a header which passed validation asks for are written only up to this size.</summary>
    private const long MaxFitBytes = 1 << 20;

    private readonly Fuzz.Folder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Tiny valid shapes: kv heads divide heads, even head size, both classifier layouts.</summary>
    internal static readonly Gen<LlamaConfig> TinyConfig =
        from heads in Gen.Int[1, 4]
        from kvHeads in Gen.OneOf(Enumerable.Range(1, heads).Where(k => heads % k == 0).ToArray())
        from headSize in Gen.OneOf(2, 4, 6)
        from hidden in Gen.Int[1, 16]
        from layers in Gen.Int[1, 3]
        from vocab in Gen.Int[1, 24]
        from context in Gen.Int[1, 8]
        from shared in Gen.Bool
        select new LlamaConfig
        {
            Dim = heads * headSize, HiddenDim = hidden, Layers = layers, Heads = heads, KvHeads = kvHeads,
            VocabSize = vocab, ContextLength = context, SharedClassifier = shared,
        };

    private static readonly int[] Extremes =
    [
        0, -1, 1, 2, int.MinValue, int.MaxValue, 1 << 30, -(1 << 30), 1 << 16, (1 << 16) + 1, 1 << 18, (1 << 18) + 1,
        1 << 20, (1 << 20) + 1, 1 << 21, (1 << 21) + 1, -(1 << 21), 1024, 1025, 3, 7,
    ];

    private static readonly Gen<int> FieldValue = Gen.Frequency(
        (2, Gen.Int),
        (3, Gen.OneOf(Extremes)),
        (3, Gen.Int[-4, 40]));

    public abstract record Edit
    {
        /// <summary>Replaces header field <paramref name="Field"/> (0 dim .. 6 seq_len).</summary>
        public sealed record SetField(int Field, int Value) : Edit;

        public sealed record Cut(int Bytes) : Edit;

        public sealed record Extend(int Bytes) : Edit;

        /// <summary>Resizes the file to what its (edited) header asks for, when that header is valid and small: reaches Import.</summary>
        public sealed record FitToHeader : Edit;
    }

    private static readonly Gen<Edit> AnyEdit = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 6], FieldValue, (f, v) => (Edit)new Edit.SetField(f, v))),
        (2, Gen.Frequency((3, Gen.Int[1, 64]), (1, Gen.Int[1, 1 << 16])).Select(b => (Edit)new Edit.Cut(b))),
        (2, Gen.Frequency((3, Gen.Int[1, 64]), (1, Gen.Int[1, 4096])).Select(b => (Edit)new Edit.Extend(b))),
        (2, Gen.Const((Edit)new Edit.FitToHeader())));

    private static readonly Gen<(LlamaConfig Config, Edit[] Edits)> Cases =
        Gen.Select(TinyConfig, Gen.Frequency((1, Gen.Const(Array.Empty<Edit>())), (9, AnyEdit.Array[1, 4])));

    [Fact]
    public void RandomHeadersAndLengths_GiveAModelOrTheDocumentedError()
    {
        var outcomes = new Fuzz.Outcomes();
        Fuzz.Sample(Cases, c => outcomes.Add(Check(c.Config, c.Edits)), iter: 2000,
            print: c => $"{c.Config} edits [{string.Join(", ", c.Edits.Select(e => e.ToString()))}]");
        // The generator reaches every outcome: edited files that still import, bad headers, bad lengths.
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("model", "edited model", "MSDK1002", "MSDK1003");
    }

    /// <summary>The real stories15M header (28 bytes) and the real file's length.</summary>
    private static readonly Lazy<(byte[] Header, long Length)> RealHeader = new(() =>
    {
        var header = new byte[HeaderBytes];
        using var stream = File.OpenRead(Import.CheckpointFiles.Checkpoint);
        stream.ReadExactly(header);
        return (header, stream.Length);
    });

    /// <summary>A change of the length the header is checked against: cut, extended, or a value at an edge.</summary>
    public sealed record LengthEdit(long Delta, long? Value)
    {
        public long Apply(long length) => Value ?? Math.Max(0, length + Delta);
    }

    private static readonly Gen<LengthEdit> AnyLengthEdit = Gen.Frequency(
        (4, Gen.Const(new LengthEdit(0, null))),
        (3, Gen.Frequency((3, Gen.Long[-64, 64]), (1, Gen.Long[-(1L << 26), 1L << 26])).Select(d => new LengthEdit(d, null))),
        (1, Gen.OneOf(0L, 1L, 27L, 28L, 29L, int.MaxValue, uint.MaxValue, long.MaxValue).Select(v => new LengthEdit(0, v))));

    /// <summary>
    /// The header reader on its own, from memory: the real header with 1 to 4 byte mutations (flips, edge values, varint-like
    /// runs, truncation, inserted or deleted bytes) and its real length edited, or a tiny valid header with fields replaced.
    /// Only a shape consistent with the length, MSDK1002 or MSDK1003 may come back, allocating no more than a constant.
    /// </summary>
    [Fact]
    public void MutatedRealHeaders_InMemory_GiveAShapeOrTheDocumentedError()
    {
        var outcomes = new Fuzz.Outcomes();
        var (realHeader, realLength) = RealHeader.Value;
        var real = Gen.Select(ByteMutation.Any(Gen.Int[0, HeaderBytes - 1]).Array[0, 4], AnyLengthEdit,
            (m, l) => (Header: ByteMutation.ApplyAll(realHeader, m), Length: l.Apply(realLength), Print: $"real header [{string.Join(", ", m.Select(x => x.ToString()))}], length {l}"));
        var tiny = Gen.Select(TinyConfig, Gen.Select(Gen.Int[0, 6], FieldValue).Array[0, 3], AnyLengthEdit, (c, fields, l) =>
        {
            var header = Build(c)[..HeaderBytes];
            foreach (var (field, value) in fields) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(field * 4), value);
            return (Header: header, Length: l.Apply(Llama2CheckpointImporter.ExpectedLength(c)),
                Print: $"{c} fields [{string.Join(", ", fields.Select(f => $"{f.Item1}={f.Item2}"))}], length {l}");
        });
        Fuzz.Sample(Gen.Frequency((3, real), (2, tiny)), c =>
        {
            string? code = null;
            var config = Fuzz.SuccessOr(() => Llama2CheckpointImporter.ParseHeader(c.Header, c.Length, "model.bin"), Codes,
                Fuzz.AllocationLimit(0, 0), e => code = e.Code.Id);
            if (config is null)
            {
                outcomes.Add(code!);
                return;
            }
            Assert.Null(config.Validate());
            Assert.Equal(c.Length, Llama2CheckpointImporter.ExpectedLength(config));
            outcomes.Add(config.Dim == 288 ? "stories15M" : "ok");
        }, iter: 10_000, print: c => c.Print);
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("stories15M", "ok", "MSDK1002", "MSDK1003");
    }

    /// <summary>Every header field set to every extreme value, as is and with the file resized to fit the new header.</summary>
    [Fact]
    public void ExtremeHeaderFields_GiveAModelOrTheDocumentedError()
    {
        var config = new LlamaConfig
        {
            Dim = 8, HiddenDim = 12, Layers = 2, Heads = 2, KvHeads = 1, VocabSize = 10, ContextLength = 4, SharedClassifier = false,
        };
        for (var field = 0; field < 7; field++)
        {
            foreach (var value in Extremes.Concat([config.Dim, config.Heads, -config.VocabSize]))
            {
                Check(config, [new Edit.SetField(field, value)]);
                Check(config, [new Edit.SetField(field, value), new Edit.FitToHeader()]);
            }
        }
    }

    [Fact]
    public void ShortFiles_AreMSDK1002()
    {
        for (var length = 0; length < HeaderBytes; length++)
        {
            var path = _folder.NewFile(".bin");
            File.WriteAllBytes(path, new byte[length]);
            var error = Assert.Throws<ModelSdkException>(() => Llama2CheckpointImporter.ReadConfig(path));
            Assert.Equal("MSDK1002", error.Code.Id);
            File.Delete(path);
        }
    }

    /// <summary>Writes the edited checkpoint, reads it, and returns the outcome: "model", "edited model" or the error code.</summary>
    private string Check(LlamaConfig config, Edit[] edits)
    {
        var bytes = Build(config);
        foreach (var edit in edits) bytes = Apply(bytes, edit);

        var path = _folder.NewFile(".bin");
        File.WriteAllBytes(path, bytes);
        try
        {
            string? code = null;
            var read = Fuzz.SuccessOr(() => Llama2CheckpointImporter.ReadConfig(path), Codes, e => code = e.Code.Id);
            if (edits.Length == 0) Assert.Equal(config, read);
            using var model = Fuzz.SuccessOr(() => Llama2CheckpointImporter.Import(path), Codes);
            Assert.Equal(read is null, model is null);
            if (model is null) return code!;

            // A model was read: its header is valid, the file has exactly the size it implies, and the tensors lie inside it.
            Assert.Equal(read, model.Config);
            Assert.Null(model.Config.Validate());
            Assert.Equal(bytes.Length, Llama2CheckpointImporter.ExpectedLength(model.Config));
            var c = model.Config;
            Assert.Equal(2 + 9 * c.Layers + (c.SharedClassifier ? 0 : 1), model.Tensors.Count);
            var ropeBytes = 2L * c.ContextLength * (c.HeadSize / 2) * sizeof(float);
            Assert.Equal(bytes.Length - HeaderBytes - ropeBytes, model.Tensors.Sum(t => t.Data.Length));
            foreach (var tensor in model.Tensors)
                Assert.Equal(tensor.Data.Length, tensor.Shape.Aggregate(4L, (n, d) => n * d));
            if (edits.Length == 0) AssertSameFloats(bytes, model);
            return edits.Length == 0 ? "model" : "edited model";
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A valid checkpoint: the header, then float32 values 0, 1, 2, ... of exactly the expected length.</summary>
    private static byte[] Build(LlamaConfig config)
    {
        var bytes = new byte[Llama2CheckpointImporter.ExpectedLength(config)];
        int[] header = [config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads,
            config.SharedClassifier ? config.VocabSize : -config.VocabSize, config.ContextLength];
        for (var i = 0; i < header.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        for (int at = HeaderBytes, n = 0; at < bytes.Length; at += 4, n++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), n);
        return bytes;
    }

    private static byte[] Apply(byte[] bytes, Edit edit)
    {
        switch (edit)
        {
            case Edit.SetField(var field, var value):
                if (bytes.Length < (field + 1) * 4) return bytes;
                var copy = (byte[])bytes.Clone();
                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(field * 4), value);
                return copy;
            case Edit.Cut(var count):
                return bytes[..Math.Max(0, bytes.Length - count)];
            case Edit.Extend(var count):
                return [.. bytes, .. new byte[count]];
            case Edit.FitToHeader:
                if (bytes.Length < HeaderBytes) return bytes;
                int Field(int i) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * 4));
                var vocab = Field(5);
                var config = new LlamaConfig
                {
                    Dim = Field(0), HiddenDim = Field(1), Layers = Field(2), Heads = Field(3), KvHeads = Field(4),
                    VocabSize = vocab == int.MinValue ? 0 : Math.Abs(vocab), ContextLength = Field(6), SharedClassifier = vocab > 0,
                };
                if (config.Validate() is not null) return bytes;
                var length = Llama2CheckpointImporter.ExpectedLength(config);
                if (length > MaxFitBytes) return bytes;
                var fitted = new byte[length];
                bytes.AsSpan(0, (int)Math.Min(length, bytes.Length)).CopyTo(fitted);
                return fitted;
            default:
                throw new ArgumentOutOfRangeException(nameof(edit), edit, null);
        }
    }

    /// <summary>An unedited file: the tensors are the file's floats in order (token embedding first; the classifier, when not shared, after the RoPE tables).</summary>
    private static void AssertSameFloats(byte[] bytes, ImportedModel model)
    {
        var embedding = model.Tensors[0];
        var first = new List<byte>();
        embedding.Data.WriteTo(span => first.AddRange(span.ToArray()));
        Assert.Equal(bytes.AsSpan(HeaderBytes, (int)embedding.Data.Length).ToArray(), first.ToArray());
        var last = model.Tensors[^1];
        var tail = new List<byte>();
        last.Data.WriteTo(span => tail.AddRange(span.ToArray()));
        var c = model.Config;
        var end = bytes.Length - (c.SharedClassifier ? 2 * c.ContextLength * (c.HeadSize / 2) * sizeof(float) : 0);
        Assert.Equal(bytes.AsSpan(end - (int)last.Data.Length, (int)last.Data.Length).ToArray(), tail.ToArray());
    }
}
