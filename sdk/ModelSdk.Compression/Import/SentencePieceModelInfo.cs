using System.Text.Unicode;
using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Import;

/// <summary>
/// The few facts the build needs from a SentencePiece <c>tokenizer.model</c> (a protobuf ModelProto): the piece
/// count and the BOS/EOS ids. Reading them here validates the file structurally, so a wrong or corrupt tokenizer
/// fails the build with a clear error instead of failing at run time.
/// </summary>
public sealed record SentencePieceModelInfo(int PieceCount, int BosId, int EosId)
{
    private const long MaxBytes = 256L << 20;

    public static SentencePieceModelInfo Read(string path)
    {
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.TokenizerMissing, "The tokenizer file does not exist.", path);
        if (FileLength.Of(path) > MaxBytes)
            throw Invalid(path, $"it is larger than {MaxBytes >> 20} MiB");
        return Parse(File.ReadAllBytes(path), path);
    }

    public static SentencePieceModelInfo Parse(ReadOnlySpan<byte> bytes, string path)
    {
        int pieces = 0, bos = 1, eos = 2;
        var reader = new ProtoReader(bytes, path);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2) { ValidatePiece(reader.ReadBytes(), path); pieces++; }
            else if (field == 2 && wire == 2) (bos, eos) = ReadTrainerIds(reader.ReadBytes(), path, bos, eos);
            else reader.Skip(wire);
        }
        if (pieces == 0) throw Invalid(path, "it contains no vocabulary pieces");
        if (bos < 0 || bos >= pieces || eos < 0 || eos >= pieces) throw Invalid(path, $"its BOS/EOS ids ({bos}/{eos}) are outside the vocabulary");
        return new SentencePieceModelInfo(pieces, bos, eos);
    }

    private static void ValidatePiece(ReadOnlySpan<byte> message, string path)
    {
        var reader = new ProtoReader(message, path);
        var hasText = false;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                if (!Utf8.IsValid(reader.ReadBytes())) throw Invalid(path, "a vocabulary piece is not valid UTF-8");
                hasText = true;
            }
            else reader.Skip(wire);
        }
        if (!hasText) throw Invalid(path, "a vocabulary piece has no text");
    }

    private static (int Bos, int Eos) ReadTrainerIds(ReadOnlySpan<byte> message, string path, int bos, int eos)
    {
        var reader = new ProtoReader(message, path);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 41 && wire == 0) bos = (int)reader.ReadVarint();
            else if (field == 42 && wire == 0) eos = (int)reader.ReadVarint();
            else reader.Skip(wire);
        }
        return (bos, eos);
    }

    internal static ModelSdkException Invalid(string path, string problem)
        => new(DiagnosticCodes.TokenizerInvalid, $"The tokenizer cannot be read: {problem}.", path);

    /// <summary>A bounds-checked protobuf wire reader: every length is checked against what is left.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> data, string path)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly bool End => _at >= _data.Length;

        public (int Field, int Wire) ReadTag()
        {
            var tag = ReadVarint();
            if (tag >> 3 is 0 or > int.MaxValue) throw Invalid(path, "it is not a protobuf message");
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_at >= _data.Length) throw Invalid(path, "it ends inside a number");
                var b = _data[_at++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
            throw Invalid(path, "it has a malformed number");
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = ReadVarint();
            if (length > (ulong)(_data.Length - _at)) throw Invalid(path, "a field runs past the end of the file");
            var slice = _data.Slice(_at, (int)length);
            _at += (int)length;
            return slice;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: Advance(8); break;
                case 2: ReadBytes(); break;
                case 5: Advance(4); break;
                default: throw Invalid(path, $"it uses protobuf wire type {wire}, which SentencePiece models do not");
            }
        }

        private void Advance(int count)
        {
            if (count > _data.Length - _at) throw Invalid(path, "a field runs past the end of the file");
            _at += count;
        }
    }
}
