using System.IO.Hashing;

namespace ModelSdk.Artifacts;

/// <summary>Full 128-bit XxHash of file contents, spelled as 32 lower-case hex digits. Never truncated.</summary>
public static class ContentHash
{
    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var hash = new XxHash128();
        hash.Append(stream);
        return ToHex(hash.GetCurrentHashAsUInt128());
    }

    public static string OfBytes(ReadOnlySpan<byte> bytes) => ToHex(XxHash128.HashToUInt128(bytes));

    public static string ToHex(UInt128 value) => value.ToString("x32");
}
