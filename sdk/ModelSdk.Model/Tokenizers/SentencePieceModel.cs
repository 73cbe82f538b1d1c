using System.Text;
using System.Text.Unicode;
using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;

namespace ModelSdk.Tokenizers;

/// <summary>
/// What ModelSdk reads from a SentencePiece <c>tokenizer.model</c> (protobuf ModelProto: field 1 = repeated
/// SentencePiece {1: piece, 2: score, 3: type}, field 2 = TrainerSpec {41: bos_id, 42: eos_id}): the piece texts and
/// types and the BOS/EOS ids. The one reader of this untrusted file, for the build (validation, vocabulary size) and
/// the runtime (decoding): any bytes give a model whose ids lie inside its vocabulary, or MSDK1005. Memory is
/// proportional to the bytes present, never to a count the file declares.
/// </summary>
public sealed class SentencePieceModel
{
    /// <summary>SentencePiece's piece types (sentencepiece_model.proto).</summary>
    public enum PieceType
    {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6,
    }

    /// <summary>Far above any real tokenizer (Llama's is 0.5 MB, large multilingual ones a few MB).</summary>
    public const long MaxBytes = 256L << 20;

    private SentencePieceModel(string[] pieces, PieceType[] types, int bosId, int eosId)
    {
        Pieces = pieces;
        Types = types;
        BosId = bosId;
        EosId = eosId;
    }

    public IReadOnlyList<string> Pieces { get; }

    public IReadOnlyList<PieceType> Types { get; }

    public int PieceCount => Pieces.Count;

    public int BosId { get; }

    public int EosId { get; }

    /// <summary>Reads a tokenizer file: MSDK1004 when it does not exist, MSDK1005 when it is not a valid model.</summary>
    public static SentencePieceModel Read(string path)
    {
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.TokenizerMissing, "The tokenizer file does not exist.", path);
        if (FileLength.Of(path) > MaxBytes)
            throw Invalid(path, $"it is larger than {MaxBytes >> 20} MiB");
        return Parse(File.ReadAllBytes(path), path);
    }

    public static SentencePieceModel Parse(ReadOnlySpan<byte> bytes, string? path)
    {
        if (bytes.Length > MaxBytes) throw Invalid(path, $"it is larger than {MaxBytes >> 20} MiB");
        var pieces = new List<string>();
        var types = new List<PieceType>();
        int bos = 1, eos = 2;
        var reader = new ProtoReader(bytes, path);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                var (piece, type) = ReadPiece(reader.ReadBytes(), path);
                pieces.Add(piece);
                types.Add(type);
            }
            else if (field == 2 && wire == 2) (bos, eos) = ReadTrainerIds(reader.ReadBytes(), path, bos, eos);
            else reader.Skip(wire);
        }
        if (pieces.Count == 0) throw Invalid(path, "it contains no vocabulary pieces");
        if (bos < 0 || bos >= pieces.Count || eos < 0 || eos >= pieces.Count)
            throw Invalid(path, $"its BOS/EOS ids ({bos}/{eos}) are outside the vocabulary of {pieces.Count} pieces");
        return new SentencePieceModel(pieces.ToArray(), types.ToArray(), bos, eos);
    }

    private static (string Piece, PieceType Type) ReadPiece(ReadOnlySpan<byte> message, string? path)
    {
        var reader = new ProtoReader(message, path);
        string? piece = null;
        var type = PieceType.Normal;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                var text = reader.ReadBytes();
                if (!Utf8.IsValid(text)) throw Invalid(path, "a vocabulary piece is not valid UTF-8");
                piece = Encoding.UTF8.GetString(text);
            }
            else if (field == 3 && wire == 0)
            {
                var value = reader.ReadInt32();
                if (value is < (int)PieceType.Normal or > (int)PieceType.Byte) throw Invalid(path, $"a vocabulary piece has unknown type {value}");
                type = (PieceType)value;
            }
            else reader.Skip(wire);
        }
        return (piece ?? throw Invalid(path, "a vocabulary piece has no text"), type);
    }

    private static (int Bos, int Eos) ReadTrainerIds(ReadOnlySpan<byte> message, string? path, int bos, int eos)
    {
        var reader = new ProtoReader(message, path);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 41 && wire == 0) bos = reader.ReadInt32();
            else if (field == 42 && wire == 0) eos = reader.ReadInt32();
            else reader.Skip(wire);
        }
        return (bos, eos);
    }

    internal static ModelSdkException Invalid(string? path, string problem, Exception? inner = null)
        => new(DiagnosticCodes.TokenizerInvalid, $"The tokenizer cannot be read: {problem}.", path, inner);
}
