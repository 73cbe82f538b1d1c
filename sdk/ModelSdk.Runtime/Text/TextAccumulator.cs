using System.Text;

namespace ModelSdk.Runtime.Text;

/// <summary>
/// The text of one generation, built token by token: bytes go through a streaming UTF-8 decoder (a character split
/// over several byte-fallback tokens comes out whole, once complete), stop sequences are searched in the newly added
/// text, and streaming callers take only what can no longer become part of a stop sequence. The buffer grows by
/// doubling from a size that fits most generations, so the token loop does not allocate in the steady state.
/// </summary>
internal sealed class TextAccumulator
{
    private readonly TokenText _tokens;
    private readonly string[] _stops;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _buffer;
    private int _length;
    private int _emitted;

    public TextAccumulator(TokenText tokens, IReadOnlyList<string> stopSequences, int expectedTokens)
    {
        _tokens = tokens;
        _stops = stopSequences.ToArray();
        _buffer = new char[Math.Clamp(expectedTokens, 16, 1 << 16) * 8];
    }

    /// <summary>True once a stop sequence was found; the text then ends right before it.</summary>
    public bool Stopped { get; private set; }

    public ReadOnlySpan<char> Text => _buffer.AsSpan(0, _length);

    public void Append(int previous, int token)
    {
        var bytes = _tokens.Bytes(previous, token);
        if (bytes.IsEmpty || Stopped) return;
        EnsureCapacity(bytes.Length + 4);
        var added = _decoder.GetChars(bytes, _buffer.AsSpan(_length), flush: false);
        Added(added);
    }

    /// <summary>Ends the text: an incomplete UTF-8 sequence left in the decoder becomes U+FFFD.</summary>
    public void Finish()
    {
        if (Stopped) return;
        EnsureCapacity(4);
        Added(_decoder.GetChars(ReadOnlySpan<byte>.Empty, _buffer.AsSpan(_length), flush: true));
    }

    private void Added(int count)
    {
        var old = _length;
        _length += count;
        if (count == 0 || _stops.Length == 0) return;
        var stopAt = -1;
        foreach (var stop in _stops)
        {
            var from = Math.Max(0, old - stop.Length + 1);
            var index = _buffer.AsSpan(from, _length - from).IndexOf(stop.AsSpan(), StringComparison.Ordinal);
            if (index >= 0 && (stopAt < 0 || from + index < stopAt)) stopAt = from + index;
        }
        if (stopAt < 0) return;
        _length = Math.Max(stopAt, _emitted);
        Stopped = true;
    }

    /// <summary>
    /// The text not yet handed out that is safe to hand out: all of it once <paramref name="final"/> or stopped, else all
    /// but the longest tail that could still grow into a stop sequence.
    /// </summary>
    public ReadOnlySpan<char> TakeReady(bool final)
    {
        var ready = _length;
        if (!final && !Stopped) ready -= HeldBack();
        var span = _buffer.AsSpan(_emitted, ready - _emitted);
        _emitted = ready;
        return span;
    }

    private int HeldBack()
    {
        var held = 0;
        var pending = _length - _emitted;
        foreach (var stop in _stops)
        {
            for (var k = Math.Min(stop.Length - 1, pending); k > held; k--)
            {
                if (_buffer.AsSpan(_length - k, k).SequenceEqual(stop.AsSpan(0, k)))
                {
                    held = k;
                    break;
                }
            }
        }
        return held;
    }

    private void EnsureCapacity(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
    }
}
