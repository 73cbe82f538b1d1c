using CsCheck;

namespace ModelSdk.Tests.Fuzz;

/// <summary>
/// One edit of a byte string. Positions are taken modulo the current length (or from its end when negative), so a
/// mutation stays meaningful after earlier ones changed the length; CsCheck prints and shrinks these small records
/// instead of whole files.
/// </summary>
public abstract record ByteMutation
{
    public abstract byte[] Apply(byte[] bytes);

    protected static int At(int position, int length)
        => length == 0 ? 0 : position >= 0 ? position % length : length - 1 - (~position % length);

    public sealed record Flip(int Position, byte Mask) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0) return bytes;
            var copy = (byte[])bytes.Clone();
            copy[At(Position, copy.Length)] ^= Mask == 0 ? (byte)1 : Mask;
            return copy;
        }
    }

    public sealed record Set(int Position, byte Value) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0) return bytes;
            var copy = (byte[])bytes.Clone();
            copy[At(Position, copy.Length)] = Value;
            return copy;
        }
    }

    /// <summary>Overwrites bytes with a protobuf varint (lengths and numbers that are huge, negative or just past the end).</summary>
    public sealed record Varint(int Position, ulong Value) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            var encoded = Encode(Value);
            if (bytes.Length < encoded.Length) return bytes;
            var copy = (byte[])bytes.Clone();
            encoded.CopyTo(copy, Math.Min(At(Position, copy.Length), copy.Length - encoded.Length));
            return copy;
        }

        public static byte[] Encode(ulong value)
        {
            var bytes = new List<byte>();
            for (; value >= 0x80; value >>= 7) bytes.Add((byte)(value | 0x80));
            bytes.Add((byte)value);
            return bytes.ToArray();
        }
    }

    public sealed record Truncate(int Length) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes) => bytes[..At(Length, bytes.Length)];
    }

    public sealed record Insert(int Position, byte[] Bytes) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            var at = bytes.Length == 0 ? 0 : At(Position, bytes.Length + 1);
            return [.. bytes.AsSpan(0, at), .. Bytes, .. bytes.AsSpan(at)];
        }

        public override string ToString() => $"Insert {{ Position = {Position}, Bytes = [{Convert.ToHexString(Bytes)}] }}";
    }

    public sealed record Delete(int Position, int Count) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0) return bytes;
            var at = At(Position, bytes.Length);
            var count = Math.Min(Count, bytes.Length - at);
            return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + count)];
        }
    }

    /// <summary>Copies a range over another place (repeated fields, a length prefix where data was).</summary>
    public sealed record Duplicate(int From, int Count, int To) : ByteMutation
    {
        public override byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0) return bytes;
            var from = At(From, bytes.Length);
            var slice = bytes.AsSpan(from, Math.Min(Count, bytes.Length - from)).ToArray();
            var to = At(To, bytes.Length + 1);
            return [.. bytes.AsSpan(0, to), .. slice, .. bytes.AsSpan(to)];
        }
    }

    public static byte[] ApplyAll(byte[] bytes, IEnumerable<ByteMutation> mutations)
    {
        foreach (var mutation in mutations) bytes = mutation.Apply(bytes);
        return bytes;
    }

    /// <summary>Byte values that tend to matter: 0, sign bits, continuation bits, all ones.</summary>
    public static readonly Gen<byte> InterestingByte = Gen.Frequency(
        (3, Gen.Byte),
        (2, Gen.OneOf<byte>(0x00, 0x01, 0x07, 0x08, 0x0a, 0x10, 0x12, 0x7f, 0x80, 0x81, 0xfe, 0xff)));

    public static readonly Gen<ulong> InterestingVarint = Gen.Frequency(
        (2, Gen.ULong),
        (2, Gen.ULong[0, 300]),
        (3, Gen.OneOf<ulong>(0, 1, 2, 127, 128, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1,
            long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue, unchecked((ulong)-1L), unchecked((ulong)(long)int.MinValue), 1UL << 35)));

    /// <summary>Mutations of a byte string; <paramref name="position"/> chooses where (e.g. biased to a header).</summary>
    public static Gen<ByteMutation> Any(Gen<int> position) => Gen.Frequency(
        (4, Gen.Select(position, Gen.Byte, (p, m) => (ByteMutation)new Flip(p, m))),
        (3, Gen.Select(position, InterestingByte, (p, v) => (ByteMutation)new Set(p, v))),
        (2, Gen.Select(position, InterestingVarint, (p, v) => (ByteMutation)new Varint(p, v))),
        (2, position.Select(p => (ByteMutation)new Truncate(p))),
        (2, Gen.Select(position, InterestingByte.Array[1, 12], (p, b) => (ByteMutation)new Insert(p, b))),
        (1, Gen.Select(position, Gen.Int[1, 64], (p, c) => (ByteMutation)new Delete(p, c))),
        (1, Gen.Select(position, Gen.Int[1, 64], position, (f, c, t) => (ByteMutation)new Duplicate(f, c, t))));
}
