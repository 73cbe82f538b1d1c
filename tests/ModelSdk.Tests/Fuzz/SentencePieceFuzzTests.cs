using System.Text;
using CsCheck;
using ModelSdk.Diagnostics;
using ModelSdk.Tokenizers;
using ModelSdk.Tests.Import;
using Xunit.Abstractions;

namespace ModelSdk.Tests.Fuzz;

/// <summary>
/// SentencePiece <c>tokenizer.model</c> files are untrusted input: any bytes must give a tokenizer whose BOS/EOS ids lie
/// inside its vocabulary, whose pieces are valid UTF-8 text and whose types are SentencePiece's, or MSDK1005, never another
/// exception; and what <see cref="SentencePieceModel"/> accepts, Microsoft.ML.Tokenizers must load too (or MSDK1005).
/// </summary>
public sealed class SentencePieceFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Codes = ["MSDK1005"];
    private const string FileName = "tokenizer.model";

    private static readonly Lazy<byte[]> RealTokenizer = new(() => File.ReadAllBytes(CheckpointFiles.Tokenizer));

    /// <summary>
    /// The real tokenizer cut down to its first 300 pieces (the specials, the 256 byte pieces, the first merges) followed
    /// by its own trainer and normalizer specs, byte for byte: real structure, a hundredth of the size, so thousands of
    /// cases take seconds.
    /// </summary>
    private static readonly Lazy<byte[]> SmallRealTokenizer = new(() => KeepPieces(RealTokenizer.Value, 300));

    private static Gen<ByteMutation[]> Mutations(int length, int tail)
    {
        var position = Gen.Frequency((3, Gen.Int[0, length - 1]), (2, Gen.Int[0, 63]), (3, Gen.Int[-tail, -1]));
        return ByteMutation.Any(position).Array[1, 4];
    }

    /// <summary>1 to 4 mutations of the real 32000-piece Llama tokenizer, placed anywhere, in its first bytes or in its last 8 KiB (trainer spec).</summary>
    [Fact]
    public void MutatedRealTokenizer_GivesAValidTokenizerOrMSDK1005()
    {
        var outcomes = new Fuzz.Outcomes();
        var real = RealTokenizer.Value;
        Fuzz.Sample(Mutations(real.Length, 8192), mutations => outcomes.Add(Check(ByteMutation.ApplyAll(real, mutations), loadEncoder: false)),
            iter: 300, print: m => $"[{string.Join(", ", m.Select(x => x.ToString()))}]");
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("ok", "MSDK1005");
    }

    /// <summary>1 to 4 mutations of the cut-down real tokenizer; what is accepted must also load as a Microsoft.ML.Tokenizers encoder.</summary>
    [Fact]
    public void MutatedSmallRealTokenizer_GivesAValidTokenizerOrMSDK1005()
    {
        var outcomes = new Fuzz.Outcomes();
        var small = SmallRealTokenizer.Value;
        Fuzz.Sample(Mutations(small.Length, 2048), mutations => outcomes.Add(Check(ByteMutation.ApplyAll(small, mutations), loadEncoder: true)),
            iter: 6000, print: m => $"[{string.Join(", ", m.Select(x => x.ToString()))}]");
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("ok", "MSDK1005");
    }

    [Fact]
    public void SmallRealTokenizer_IsTheRealOnesFirstPieces()
    {
        var real = SentencePieceModel.Parse(RealTokenizer.Value, FileName);
        var small = SentencePieceModel.Parse(SmallRealTokenizer.Value, FileName);
        Assert.Equal(real.Pieces.Take(300), small.Pieces);
        Assert.Equal(real.Types.Take(300), small.Types);
        Assert.Equal((real.BosId, real.EosId), (small.BosId, small.EosId));
        var encoder = LlamaTokenizers.Create(SmallRealTokenizer.Value, FileName);
        var ids = encoder.EncodeToIds("Once upon a time, Лиса", addBeginningOfSentence: true, addEndOfSentence: false);
        Assert.Equal(1, ids[0]);
        Assert.Equal(" Once upon a time, Лиса", encoder.Decode(ids)); // SentencePiece's dummy prefix
    }

    /// <summary>The top-level fields of a ModelProto with only the first <paramref name="pieces"/> piece fields kept.</summary>
    private static byte[] KeepPieces(byte[] model, int pieces)
    {
        var kept = new List<byte>();
        var seen = 0;
        for (var at = 0; at < model.Length;)
        {
            var start = at;
            var tag = ReadVarint(model, ref at);
            Assert.Equal(2UL, tag & 7);
            var length = (int)ReadVarint(model, ref at);
            at += length;
            if (tag >> 3 != 1 || seen++ < pieces) kept.AddRange(model.AsSpan(start, at - start));
        }
        return kept.ToArray();
    }

    private static ulong ReadVarint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }

    [Fact]
    public void RandomBytes_GiveAValidTokenizerOrMSDK1005()
        => Fuzz.Sample(Gen.Byte.Array[0, 512], bytes => Check(bytes, loadEncoder: false), iter: 3000, print: Convert.ToHexString);

    /// <summary>
    /// Random protobuf messages (right and wrong wire types, lying lengths, nested messages, huge varints), and
    /// well-formed models with a byte or two damaged.
    /// </summary>
    [Fact]
    public void RandomProtobuf_GivesAValidTokenizerOrMSDK1005()
    {
        var outcomes = new Fuzz.Outcomes();
        var cases = Gen.Frequency(
            (1, Gen.Select(Proto.AnyMessage, Gen.Const(Array.Empty<ByteMutation>()))),
            (1, Gen.Select(Proto.WellFormedModel.Select(m => m.Fields), ByteMutation.Any(Gen.Int).Array[1, 2])));
        Fuzz.Sample(cases, c => outcomes.Add(Check(ByteMutation.ApplyAll(Proto.Encode(c.Item1), c.Item2), loadEncoder: false)), iter: 3000,
            print: c => $"{Proto.Print(c.Item1)} mutated [{string.Join(", ", c.Item2.Select(m => m.ToString()))}]");
        output.WriteLine($"outcomes: {outcomes}");
        outcomes.AssertSeen("ok", "MSDK1005");
    }

    /// <summary>Well-formed models with unknown fields of every wire type interleaved: the result is exactly what they encode.</summary>
    [Fact]
    public void WellFormedModels_AreReadExactly()
        => Fuzz.Sample(Proto.WellFormedModel, model =>
        {
            var (fields, pieces, bos, eos) = model;
            var bytes = Proto.Encode(fields);
            if (bos < 0 || bos >= pieces || eos < 0 || eos >= pieces)
                Assert.Equal("MSDK1005", Check(bytes, loadEncoder: false));
            else
            {
                var read = SentencePieceModel.Parse(bytes, FileName);
                Assert.Equal((pieces, bos, eos), (read.PieceCount, read.BosId, read.EosId));
            }
        }, iter: 1000, print: m => $"{m.Pieces} pieces, bos {m.Bos}, eos {m.Eos}: {Proto.Print(m.Fields)}");

    private static string Check(byte[] bytes, bool loadEncoder)
    {
        string? code = null;
        var model = Fuzz.SuccessOr(() => SentencePieceModel.Parse(bytes, FileName), Codes, Fuzz.AllocationLimit(bytes.Length, 8), e =>
        {
            code = e.Code.Id;
            Assert.Equal(FileName, e.FilePath);
        });
        if (model is null) return code!;
        Assert.InRange(model.PieceCount, 1, bytes.Length);
        Assert.Equal(model.PieceCount, model.Types.Count);
        Assert.InRange(model.BosId, 0, model.PieceCount - 1);
        Assert.InRange(model.EosId, 0, model.PieceCount - 1);
        Assert.All(model.Types, type => Assert.True(Enum.IsDefined(type)));
        if (!loadEncoder) return "ok";
        var encoder = Fuzz.SuccessOr(() => LlamaTokenizers.Create(bytes, FileName), Codes, e => code = $"{e.Code.Id} from {e.InnerException?.GetType().Name}");
        return encoder is null ? $"encoder {code}" : "ok";
    }

    /// <summary>A protobuf field, written as the wire format; Print shows the tree CsCheck found.</summary>
    public abstract record Proto
    {
        public abstract void Write(List<byte> to);

        public sealed record Varint(int Field, ulong Value) : Proto
        {
            public override void Write(List<byte> to) { Tag(to, (ulong)Field, 0); to.AddRange(ByteMutation.Varint.Encode(Value)); }
        }

        public sealed record Fixed64(int Field, ulong Value) : Proto
        {
            public override void Write(List<byte> to) { Tag(to, (ulong)Field, 1); to.AddRange(BitConverter.GetBytes(Value)); }
        }

        public sealed record Fixed32(int Field, uint Value) : Proto
        {
            public override void Write(List<byte> to) { Tag(to, (ulong)Field, 5); to.AddRange(BitConverter.GetBytes(Value)); }
        }

        /// <summary>A length-delimited field; <paramref name="LengthError"/> makes the length prefix lie.</summary>
        public sealed record Bytes(int Field, byte[] Value, long LengthError = 0) : Proto
        {
            public override void Write(List<byte> to)
            {
                Tag(to, (ulong)Field, 2);
                to.AddRange(ByteMutation.Varint.Encode(unchecked((ulong)(Value.Length + LengthError))));
                to.AddRange(Value);
            }

            public override string ToString() => $"Bytes({Field}, [{Convert.ToHexString(Value)}]{(LengthError == 0 ? "" : $", length error {LengthError}")})";
        }

        public sealed record Message(int Field, Proto[] Fields) : Proto
        {
            public override void Write(List<byte> to)
            {
                var inner = Encode(Fields);
                Tag(to, (ulong)Field, 2);
                to.AddRange(ByteMutation.Varint.Encode((ulong)inner.Length));
                to.AddRange(inner);
            }

            public override string ToString() => $"Message({Field}, {Print(Fields)})";
        }

        /// <summary>A bare tag: any field number (0 and past int32 included) and any wire type (groups, 6, 7), with nothing after it.</summary>
        public sealed record BareTag(ulong Field, int Wire) : Proto
        {
            public override void Write(List<byte> to) => Tag(to, Field, Wire);
        }

        private static void Tag(List<byte> to, ulong field, int wire) => to.AddRange(ByteMutation.Varint.Encode((field << 3) | (uint)wire));

        public static byte[] Encode(Proto[] fields)
        {
            var bytes = new List<byte>();
            foreach (var field in fields) field.Write(bytes);
            return bytes.ToArray();
        }

        public static string Print(Proto[] fields) => $"[{string.Join(", ", fields.Select(f => f.ToString()))}]";

        private static readonly Gen<int> FieldNumber = Gen.Frequency(
            (6, Gen.OneOf(1, 2, 3, 41, 42)),
            (2, Gen.Int[0, 100]),
            (1, Gen.OneOf(0, 1 << 28, (1 << 29) - 1, int.MaxValue)));

        private static readonly Gen<byte[]> PieceText = Gen.Frequency(
            (4, Gen.String[Gen.Char.AlphaNumeric, 1, 8].Select(Encoding.UTF8.GetBytes)),
            (2, Gen.OneOf("▁the", "<s>", "</s>", "<0x0A>", "é", "日本", "🙂").Select(Encoding.UTF8.GetBytes)),
            (2, Gen.Byte.Array[0, 6]),
            (1, Gen.OneOf<byte[]>([0xff], [0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [])));

        private static readonly Gen<ulong> Id = Gen.Frequency((4, Gen.ULong[0, 40]), (2, ByteMutation.InterestingVarint));

        private static readonly Gen<Proto> Scalar = Gen.Frequency(
            (3, Gen.Select(FieldNumber, Id, (f, v) => (Proto)new Varint(f, v))),
            (1, Gen.Select(FieldNumber, Gen.ULong, (f, v) => (Proto)new Fixed64(f, v))),
            (1, Gen.Select(FieldNumber, Gen.UInt, (f, v) => (Proto)new Fixed32(f, v))),
            (2, Gen.Select(FieldNumber, PieceText, (f, v) => (Proto)new Bytes(f, v))),
            (1, Gen.Select(FieldNumber, Gen.Byte.Array[0, 8], Gen.OneOf(-1L, 1L, 2L, -4L, 1L << 20, int.MaxValue, long.MinValue),
                (f, v, e) => (Proto)new Bytes(f, v, e))),
            (1, Gen.Select(Gen.Frequency((3, Gen.ULong[0, 50]), (1, Gen.ULong[0, ulong.MaxValue >> 3])), Gen.Int[0, 7],
                (f, w) => (Proto)new BareTag(f, w))));

        private static readonly Gen<Proto> Piece = Gen.Frequency(
            (4, Gen.Select(PieceText, Gen.UInt, Gen.ULong[0, 6], (t, s, k) => (Proto)new Message(1, [new Bytes(1, t), new Fixed32(2, s), new Varint(3, k)]))),
            (2, Scalar.Array[0, 4].Select(f => (Proto)new Message(1, f))));

        private static readonly Gen<Proto> Trainer = Gen.Frequency(
            (3, Gen.Select(Id, Id, (b, e) => (Proto)new Message(2, [new Varint(41, b), new Varint(42, e)]))),
            (2, Scalar.Array[0, 4].Select(f => (Proto)new Message(2, f))));

        public static readonly Gen<Proto[]> AnyMessage = Gen.Frequency(
            (6, Piece), (1, Trainer), (2, Scalar), (1, Gen.Select(FieldNumber, Scalar.Array[0, 3], (f, s) => (Proto)new Message(f, s)))).Array[0, 24];

        /// <summary>Unknown fields that a reader must skip: numbers SentencePiece leaves alone, every valid wire type.</summary>
        private static readonly Gen<Proto> Unknown = Gen.Select(Gen.Int[4, 40], Gen.Int[0, 3], Gen.ULong, Gen.Byte.Array[0, 6],
            (f, kind, v, b) => kind switch
            {
                0 => (Proto)new Varint(f, v),
                1 => new Fixed64(f, v),
                2 => new Fixed32(f, (uint)v),
                _ => new Bytes(f, b),
            });

        private static readonly Gen<string> ValidText = Gen.Frequency(
            (4, Gen.String[Gen.Char.AlphaNumeric, 1, 8]), (1, Gen.OneOf("▁the", "<s>", "é", "日本", "🙂")));

        /// <summary>A well-formed model and what it encodes: pieces, then an optional trainer spec with BOS/EOS ids (1 and 2 by default).</summary>
        public static readonly Gen<(Proto[] Fields, int Pieces, int Bos, int Eos)> WellFormedModel =
            from pieces in Gen.Select(ValidText, Unknown.Array[0, 2], (t, u) => new Message(1, [new Bytes(1, Encoding.UTF8.GetBytes(t)), .. u])).Array[1, 30]
            from unknown in Unknown.Array[0, 3]
            from hasTrainer in Gen.Bool
            from bos in Gen.Int[-1, 32]
            from eos in Gen.Int[-1, 32]
            from trainerExtras in Unknown.Array[0, 3]
            let trainer = new Message(2, [.. trainerExtras, new Varint(41, unchecked((ulong)(long)bos)), new Varint(42, unchecked((ulong)(long)eos))])
            select ((Proto[])[.. pieces, .. unknown, .. (hasTrainer ? [trainer] : Array.Empty<Proto>())],
                pieces.Length, hasTrainer ? bos : 1, hasTrainer ? eos : 2);
    }
}
