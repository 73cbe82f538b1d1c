using System.Globalization;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Pipeline;

/// <summary>The limits a cache trim keeps to: a size ("10GB", "500MB", "4096" bytes) and an age since last use ("30d", "12h", "90m").</summary>
public static class CacheLimits
{
    private static readonly (string Suffix, long Factor)[] SizeUnits =
        [("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1)];

    private static readonly (string Suffix, TimeSpan Unit)[] AgeUnits =
        [("d", TimeSpan.FromDays(1)), ("h", TimeSpan.FromHours(1)), ("m", TimeSpan.FromMinutes(1)), ("s", TimeSpan.FromSeconds(1))];

    public static long? ParseSize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        foreach (var (suffix, factor) in SizeUnits)
        {
            if (!trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            return Scale(trimmed[..^suffix.Length], factor, text);
        }
        return Scale(trimmed, 1, text);
    }

    public static TimeSpan? ParseAge(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        foreach (var (suffix, unit) in AgeUnits)
        {
            if (!trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            if (double.TryParse(trimmed[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var count) && count >= 0 && count < 1e5)
                return unit * count;
            break;
        }
        throw new ModelSdkException(DiagnosticCodes.InvalidCacheLimit, $"'{text}' is not a cache age: write a number with d, h, m or s, e.g. 30d.");
    }

    private static long Scale(string number, long factor, string text)
    {
        if (double.TryParse(number.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value * factor < long.MaxValue / 2)
            return (long)(value * factor);
        throw new ModelSdkException(DiagnosticCodes.InvalidCacheLimit, $"'{text}' is not a cache size: write a number of bytes or one with KB, MB, GB or TB, e.g. 10GB.");
    }
}
