using System.Buffers.Binary;
using System.IO.Hashing;

namespace ModelSdk.Artifacts;

/// <summary>
/// The binary layout of a <c>.msdk</c> file:
/// <code>
/// [0,128)   header: magic "MSDK\r\n\x1a\n", u32 format version, u32 flags, u64 manifest offset, u64 manifest length,
///           u64 data offset, u64 data length, XxHash128(manifest), XxHash128(data), XxHash128(header bytes [0,80)), zero padding
/// manifest  UTF-8 JSON (<see cref="ArtifactManifest"/> with its tensor table)
/// data      64-byte aligned section at the first aligned offset after the manifest (zero bytes between); every tensor
///           starts on a 64-byte boundary, in the layout the kernels read
/// </code>
/// All integers are little-endian. The hashes let a loader refuse a truncated or tampered file; the few bytes no hash
/// covers (header and alignment padding) must be zero, so no byte of a valid file can change unnoticed.
/// </summary>
public static class ArtifactFormat
{
    public const int HeaderSize = 128;
    public const int Alignment = 64;
    public const uint Version = 1;
    public const string FileExtension = ".msdk";

    /// <summary>"MSDK" then CR LF SUB LF, so text-mode transfers and `type` on Windows are caught (as PNG does).</summary>
    public static ReadOnlySpan<byte> Magic => "MSDK\r\n\x1a\n"u8;

    public static long Align(long offset) => (offset + Alignment - 1) & ~(long)(Alignment - 1);

    internal readonly record struct Header(
        uint Version, uint Flags, long ManifestOffset, long ManifestLength, long DataOffset, long DataLength,
        UInt128 ManifestHash, UInt128 DataHash)
    {
        private const int HashedPrefix = 80;

        /// <summary>Bytes [96, 128) after the header checksum: no hash covers them, so they must be zero.</summary>
        private const int PaddingStart = HashedPrefix + 16;

        public void Write(Span<byte> span)
        {
            span[..HeaderSize].Clear();
            Magic.CopyTo(span);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Version);
            BinaryPrimitives.WriteUInt32LittleEndian(span[12..], Flags);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], ManifestOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[24..], ManifestLength);
            BinaryPrimitives.WriteInt64LittleEndian(span[32..], DataOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[40..], DataLength);
            BinaryPrimitives.WriteUInt128LittleEndian(span[48..], ManifestHash);
            BinaryPrimitives.WriteUInt128LittleEndian(span[64..], DataHash);
            BinaryPrimitives.WriteUInt128LittleEndian(span[80..], XxHash128.HashToUInt128(span[..HashedPrefix]));
        }

        /// <summary>Parses a header; returns null and a reason when it is not a valid one.</summary>
        public static Header? TryRead(ReadOnlySpan<byte> span, out string? problem)
        {
            if (span.Length < HeaderSize || !span[..8].SequenceEqual(Magic))
            {
                problem = "it does not start with the .msdk magic bytes";
                return null;
            }
            if (BinaryPrimitives.ReadUInt128LittleEndian(span[80..]) != XxHash128.HashToUInt128(span[..HashedPrefix]))
            {
                problem = "its header checksum does not match";
                return null;
            }
            if (span[PaddingStart..HeaderSize].ContainsAnyExcept((byte)0))
            {
                problem = "its header padding is not zero";
                return null;
            }
            problem = null;
            return new Header(
                BinaryPrimitives.ReadUInt32LittleEndian(span[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(span[12..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[16..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[24..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[32..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[40..]),
                BinaryPrimitives.ReadUInt128LittleEndian(span[48..]),
                BinaryPrimitives.ReadUInt128LittleEndian(span[64..]));
        }
    }
}
