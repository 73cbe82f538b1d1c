namespace ModelSdk.Tokenizers;

/// <summary>
/// A bounds-checked protobuf wire reader over untrusted bytes: every length is checked against what is left, so a
/// lying length prefix gives an error, never a read past the end or an allocation.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string? path)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public readonly bool End => _at >= _data.Length;

    public (int Field, int Wire) ReadTag()
    {
        var tag = ReadVarint();
        if (tag >> 3 is 0 or > int.MaxValue) throw SentencePieceModel.Invalid(path, "it is not a protobuf message");
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_at >= _data.Length) throw SentencePieceModel.Invalid(path, "it ends inside a number");
            var b = _data[_at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw SentencePieceModel.Invalid(path, "it has a malformed number");
    }

    /// <summary>An int32 field: protobuf writes a negative one as a 10-byte varint whose low 32 bits are the value.</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _at)) throw SentencePieceModel.Invalid(path, "a field runs past the end of the file");
        return Take((int)length);
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(); break;
            case 1: Take(8); break;
            case 2: ReadBytes(); break;
            case 5: Take(4); break;
            default: throw SentencePieceModel.Invalid(path, $"it uses protobuf wire type {wire}, which SentencePiece models do not");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _at) throw SentencePieceModel.Invalid(path, "a field runs past the end of the file");
        var slice = _data.Slice(_at, count);
        _at += count;
        return slice;
    }
}
