namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// Which weights a row loses, given a score per weight (the smallest scores go): the whole row at once for unstructured
/// sparsity, each run of M inputs for N:M. Ties go to the lower index, so masks are deterministic.
/// </summary>
public static class PruningMask
{
    /// <summary>Marks in <paramref name="pruned"/> the <paramref name="count"/> entries of smallest score (and clears the others).</summary>
    public static void SelectSmallest(ReadOnlySpan<double> scores, int count, Span<bool> pruned)
    {
        if (scores.Length != pruned.Length) throw new ArgumentException("One flag per score is needed.", nameof(pruned));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, scores.Length);
        pruned.Clear();
        if (count == 0) return;
        if (count == 1 || scores.Length <= 8)
        {
            // Small groups (N:M): repeated selection of the minimum, no allocation.
            for (var k = 0; k < count; k++)
            {
                var best = -1;
                for (var i = 0; i < scores.Length; i++)
                    if (!pruned[i] && (best < 0 || scores[i] < scores[best])) best = i;
                pruned[best] = true;
            }
            return;
        }
        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = scores.ToArray();
        // Array.Sort is not stable: sort by (score, index) explicitly.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        for (var k = 0; k < count; k++) pruned[order[k]] = true;
    }

    /// <summary>
    /// Zeroes the weights of <paramref name="row"/> that <paramref name="pattern"/> prunes by <paramref name="scores"/>:
    /// <see cref="SparsityPattern.PrunedPerRow"/> of the row, or M − N of every group of M.
    /// </summary>
    public static void Apply(Span<float> row, ReadOnlySpan<double> scores, SparsityPattern pattern)
    {
        if (row.Length != scores.Length) throw new ArgumentException("One score per weight is needed.", nameof(scores));
        var pruned = new bool[row.Length];
        if (pattern.IsSemiStructured)
        {
            var m = pattern.GroupSize;
            if (row.Length % m != 0) throw new ArgumentException($"A row of {row.Length} is not a whole number of groups of {m}.", nameof(row));
            for (var at = 0; at < row.Length; at += m)
                SelectSmallest(scores.Slice(at, m), pattern.PrunedPerGroup, pruned.AsSpan(at, m));
        }
        else
        {
            SelectSmallest(scores, pattern.PrunedPerRow(row.Length), pruned);
        }
        for (var i = 0; i < row.Length; i++)
            if (pruned[i]) row[i] = 0;
    }
}
