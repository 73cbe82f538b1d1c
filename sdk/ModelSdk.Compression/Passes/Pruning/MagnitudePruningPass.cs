namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// <c>magnitude</c>: zeroes the weights of smallest |w| in every row (the whole row for a ratio, every group of M for
/// N:M). No calibration data: the baseline that Wanda and SparseGPT are measured against.
/// </summary>
public sealed class MagnitudePruningPass(SparsityPattern pattern, PruningTargets targets) : PruningPass(pattern, targets)
{
    public static PassDescriptor Descriptor { get; } = new(
        "magnitude", "prune the weights of smallest magnitude per row (Sparsity 0.5 or N:M such as 2:4; PruneLayers; PruneClassifier)",
        PruningTargets.OptionNames,
        options => Create(options, (pattern, targets) => new MagnitudePruningPass(pattern, targets)));

    public override string Name => Descriptor.Name;

    public override int Version => 1;

    public override bool NeedsCalibration => false;

    public override void Run(WorkingModel model, PassContext context)
    {
        var selected = Targets.Select(model.Config);
        for (var i = 0; i < selected.Count; i++)
        {
            PruneMatrix(model, selected[i].Name, context.CancellationToken);
            context.ReportProgress(Name, (i + 1.0) / selected.Count);
        }
    }

    /// <summary>Prunes one matrix of <paramref name="model"/> by magnitude, rows in parallel.</summary>
    internal void PruneMatrix(WorkingModel model, string name, CancellationToken ct)
    {
        var tensor = model[name];
        var weights = model.GetFloats(name);
        var cols = tensor.Cols;
        var pattern = Targets.PatternFor(name, Pattern);
        Parallel.For(0, tensor.Rows, new ParallelOptions { CancellationToken = ct }, r =>
        {
            var row = weights.AsSpan(r * cols, cols);
            var scores = new double[cols];
            for (var c = 0; c < cols; c++) scores[c] = Math.Abs(row[c]);
            PruningMask.Apply(row, scores, pattern);
        });
        model.SetFloats(name, weights);
    }
}
