using System.Globalization;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// What fraction of a matrix's weights pruning sets to zero: unstructured (<c>Sparsity="0.5"</c> or <c>"50%"</c>: that
/// fraction of every row, wherever the method puts it) or semi-structured N:M (<c>Sparsity="2:4"</c>: in every run of M
/// consecutive inputs of a row, N weights are kept and M − N are zero — the pattern sparse tensor cores and the 2:4 kernel
/// use).
/// </summary>
public sealed record SparsityPattern
{
    private SparsityPattern(double ratio, int kept, int groupSize)
    {
        Ratio = ratio;
        Kept = kept;
        GroupSize = groupSize;
    }

    /// <summary>The fraction of zeros (for N:M, 1 − N/M).</summary>
    public double Ratio { get; }

    /// <summary>N of N:M (weights kept per group); 0 when unstructured.</summary>
    public int Kept { get; }

    /// <summary>M of N:M (the group length); 0 when unstructured.</summary>
    public int GroupSize { get; }

    public bool IsSemiStructured => GroupSize > 0;

    /// <summary>Zeros per group (M − N).</summary>
    public int PrunedPerGroup => GroupSize - Kept;

    public static SparsityPattern Unstructured(double ratio)
        => ratio > 0 && ratio < 1 && double.IsFinite(ratio)
            ? new SparsityPattern(ratio, 0, 0)
            : throw Invalid(ratio.ToString("R", CultureInfo.InvariantCulture));

    public static SparsityPattern SemiStructured(int kept, int groupSize)
        => kept > 0 && kept < groupSize && groupSize <= MaxGroupSize
            ? new SparsityPattern(1 - kept / (double)groupSize, kept, groupSize)
            : throw Invalid($"{kept}:{groupSize}");

    /// <summary>The longest N:M group accepted.</summary>
    public const int MaxGroupSize = 64;

    /// <summary>Parses "0.5", "50%", "2:4"; MSDK1020 otherwise.</summary>
    public static SparsityPattern Parse(string text)
    {
        var trimmed = text.Trim();
        var colon = trimmed.IndexOf(':');
        if (colon >= 0)
        {
            return int.TryParse(trimmed[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && int.TryParse(trimmed[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                && n > 0 && n < m && m <= MaxGroupSize
                ? SemiStructured(n, m)
                : throw Invalid(text);
        }
        return PassOptions.ParseNumber(trimmed, out var ratio) && ratio > 0 && ratio < 1 ? Unstructured(ratio) : throw Invalid(text);
    }

    /// <summary>How many weights of a row of <paramref name="length"/> an unstructured pattern zeroes (rounded to nearest).</summary>
    public int PrunedPerRow(int length)
        => IsSemiStructured ? length / GroupSize * PrunedPerGroup : (int)Math.Round(Ratio * length, MidpointRounding.AwayFromZero);

    /// <summary>Canonical spelling: "2:4", or the ratio in round-trip invariant form ("0.5").</summary>
    public override string ToString() => IsSemiStructured
        ? $"{Kept.ToString(CultureInfo.InvariantCulture)}:{GroupSize.ToString(CultureInfo.InvariantCulture)}"
        : Ratio.ToString("R", CultureInfo.InvariantCulture);

    private static ModelSdkException Invalid(string text)
        => new(DiagnosticCodes.InvalidSparsity,
            $"Sparsity=\"{text}\" is not valid: use a fraction of zeros strictly between 0 and 1 (\"0.5\" or \"50%\"), " +
            $"or N:M with 0 < N < M ≤ {MaxGroupSize} (N weights kept in every M, e.g. \"2:4\" or \"4:8\").");
}
