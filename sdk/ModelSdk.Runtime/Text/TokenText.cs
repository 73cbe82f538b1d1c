using System.Globalization;
using System.Text;
using ModelSdk.Tokenizers;

namespace ModelSdk.Runtime.Text;

/// <summary>
/// Per-token output bytes, computed once at load, decoded the way llama2.c's <c>decode</c> + <c>safe_printf</c> do:
/// '▁' becomes a space; byte-fallback pieces <c>&lt;0xHH&gt;</c> become the byte HH; the piece right after BOS loses its
/// leading space; control pieces (BOS, EOS) print nothing; a single control byte that is neither printable nor
/// whitespace is dropped. Unlike run.c, bytes ≥ 0x80 from byte pieces are kept and reassembled into characters by
/// <see cref="TextAccumulator"/>'s streaming UTF-8 decoder.
/// </summary>
internal sealed class TokenText
{
    private readonly byte[][] _bytes;
    private readonly string?[] _strings;

    public TokenText(SentencePieceModel vocabulary, int bosId)
    {
        BosId = bosId;
        var count = vocabulary.Pieces.Count;
        _bytes = new byte[count][];
        _strings = new string?[count];
        for (var id = 0; id < count; id++)
        {
            var piece = vocabulary.Pieces[id];
            var type = vocabulary.Types[id];
            byte[] bytes;
            if (type == SentencePieceModel.PieceType.Control) bytes = [];
            else if (TryParseByte(piece, out var b)) bytes = [b];
            else bytes = Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
            if (bytes.Length == 1 && IsUnsafeByte(bytes[0])) bytes = [];
            _bytes[id] = bytes;
            // A piece whose bytes are complete UTF-8 on their own has a ready-made string (what streaming yields without allocating).
            if (System.Text.Unicode.Utf8.IsValid(bytes)) _strings[id] = Encoding.UTF8.GetString(bytes);
        }
    }

    public int BosId { get; }

    public int Count => _bytes.Length;

    /// <summary>The bytes token <paramref name="token"/> prints when it follows <paramref name="previous"/>.</summary>
    public ReadOnlySpan<byte> Bytes(int previous, int token)
    {
        var bytes = _bytes[token];
        return previous == BosId && bytes.Length > 0 && bytes[0] == (byte)' ' ? bytes.AsSpan(1) : bytes;
    }

    /// <summary>The token's text when it stands alone (null for a partial UTF-8 byte piece).</summary>
    public string? String(int token) => _strings[token];

    private static bool TryParseByte(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>run.c's safe_printf test in the C locale: not isprint and not isspace, restricted to ASCII (bytes ≥ 0x80 are UTF-8 parts here).</summary>
    private static bool IsUnsafeByte(byte b) => b < 0x80 && !(b is >= 0x20 and <= 0x7e) && !(b is (byte)' ' or >= 9 and <= 13);
}
