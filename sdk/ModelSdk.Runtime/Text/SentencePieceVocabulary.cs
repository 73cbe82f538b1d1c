using System.Text;
using ModelSdk.Diagnostics;

namespace ModelSdk.Runtime.Text;

/// <summary>
/// The pieces of a SentencePiece <c>tokenizer.model</c> (protobuf ModelProto, field 1 = repeated SentencePiece
/// {1: piece, 2: score, 3: type}), read with a small bounds-checked wire reader. Only the piece texts and types are
/// needed: encoding is Microsoft.ML.Tokenizers' job, decoding is a table lookup.
/// </summary>
internal sealed class SentencePieceVocabulary
{
    public enum PieceType
    {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6,
    }

    private SentencePieceVocabulary(string[] pieces, PieceType[] types)
    {
        Pieces = pieces;
        Types = types;
    }

    public IReadOnlyList<string> Pieces { get; }

    public IReadOnlyList<PieceType> Types { get; }

    public static SentencePieceVocabulary Parse(ReadOnlySpan<byte> model, string? filePath)
    {
        var pieces = new List<string>();
        var types = new List<PieceType>();
        var reader = new Reader(model, filePath);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                var message = new Reader(reader.ReadBytes(), filePath);
                string? piece = null;
                var type = PieceType.Normal;
                while (!message.End)
                {
                    var (f, w) = message.ReadTag();
                    if (f == 1 && w == 2) piece = Encoding.UTF8.GetString(message.ReadBytes());
                    else if (f == 3 && w == 0) type = (PieceType)(int)message.ReadVarint();
                    else message.Skip(w);
                }
                pieces.Add(piece ?? throw Invalid(filePath, "a vocabulary piece has no text"));
                types.Add(type);
            }
            else reader.Skip(wire);
        }
        if (pieces.Count == 0) throw Invalid(filePath, "it contains no vocabulary pieces");
        return new SentencePieceVocabulary(pieces.ToArray(), types.ToArray());
    }

    private static ModelSdkException Invalid(string? path, string problem)
        => new(DiagnosticCodes.TokenizerInvalid, $"The tokenizer embedded in the artifact cannot be read: {problem}.", path);

    private ref struct Reader(ReadOnlySpan<byte> data, string? path)
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
                default: throw Invalid(path, $"it uses protobuf wire type {wire}");
            }
        }

        private void Advance(int count)
        {
            if (count > _data.Length - _at) throw Invalid(path, "a field runs past the end of the file");
            _at += count;
        }
    }
}
