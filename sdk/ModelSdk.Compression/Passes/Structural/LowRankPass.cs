using System.Globalization;
using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Structural;

/// <summary>
/// <c>low-rank</c>: replaces chosen block matrices by their best rank-r approximation W ≈ B·A (truncated SVD,
/// <see cref="TruncatedSvd"/>), r from <c>LowRankRatio</c> (the share of the matrix's values the two factors hold) or
/// from <c>LowRankEnergy</c> (the share of Σσ² kept). <c>LowRankLayers</c> chooses the matrices like <c>PruneLayers</c>
/// (default: every block matrix). The artifact stores the two fp32 factors (<see cref="TensorNames.LowRankA"/>,
/// <see cref="TensorNames.LowRankB"/>) and the runtime computes B·(A·x), so the matrices take rank · (rows + cols) values
/// on disk and per token instead of rows · cols; a following <c>distill</c> trains the factors themselves (the product
/// keeps its rank). <c>LowRankStorage="dense"</c> stores the product instead (for the GPU backend); so does a later pass
/// that stores the matrix in its own format (quantization, pruning).
/// </summary>
public sealed class LowRankPass : IModelPass
{
    public const string RatioOption = "LowRankRatio";
    public const string EnergyOption = "LowRankEnergy";
    public const string LayersOption = "LowRankLayers";
    public const string CalibratedOption = "LowRankCalibrated";
    public const string StorageOption = "LowRankStorage";
    public const string FactoredStorage = "factored";
    public const string DenseStorage = "dense";

    public static PassDescriptor Descriptor { get; } = new("low-rank",
        "replace block matrices by a truncated SVD B·A (LowRankRatio of the values, or LowRankEnergy of Σσ²; LowRankLayers chooses them)",
        [RatioOption, EnergyOption, LayersOption, CalibratedOption, StorageOption], Create);

    public LowRankPass(double? ratio, double? energy, IReadOnlyList<string> layers, bool calibrated = false, bool factored = true)
    {
        Calibrated = calibrated;
        Factored = factored;
        if ((ratio is null) == (energy is null)) throw new ArgumentException("Give exactly one of ratio and energy.");
        Ratio = ratio;
        Energy = energy;
        Layers = layers;
    }

    /// <summary>Share of a matrix's values the factors hold (rank ⌊ratio · rows · cols / (rows + cols)⌋), or null.</summary>
    public double? Ratio { get; }

    /// <summary>Share of the squared singular values kept (the smallest rank that reaches it), or null.</summary>
    public double? Energy { get; }

    /// <summary>
    /// Minimize the error of each matrix's outputs on the calibration text instead of its weights' error
    /// (<see cref="TruncatedSvd.FactorWhitened"/>), block by block on the inputs the already factored blocks produce.
    /// </summary>
    public bool Calibrated { get; }

    /// <summary>
    /// Whether the artifact stores the factors (<c>LowRankStorage="factored"</c>, the default: smaller and faster on the
    /// CPU) or their dense product (<c>"dense"</c>: what the GPU backend, which has no factored matrices, runs).
    /// </summary>
    public bool Factored { get; }

    /// <summary>Selectors (lower case) as in PruneLayers; empty = every block matrix.</summary>
    public IReadOnlyList<string> Layers { get; }

    public string Name => Descriptor.Name;

    /// <summary>2: the artifact stores the factors (1 stored their dense product).</summary>
    public int Version => 2;

    public IReadOnlyList<KeyValuePair<string, string>> Options =>
    [
        Ratio is { } ratio ? new(RatioOption, ratio.ToString("R", CultureInfo.InvariantCulture)) : new(EnergyOption, Energy!.Value.ToString("R", CultureInfo.InvariantCulture)),
        new(LayersOption, string.Join(",", Layers)),
        new(CalibratedOption, Calibrated ? "true" : "false"),
        new(StorageOption, Factored ? FactoredStorage : DenseStorage),
    ];

    public bool NeedsCalibration => Calibrated;

    public TensorType? MatrixType => null;

    private static IModelPass Create(PassOptions options)
    {
        var ratio = options.Has(RatioOption) ? options.GetDouble(RatioOption, 0, min: 0, max: 1) : (double?)null;
        var energy = options.Has(EnergyOption) ? options.GetDouble(EnergyOption, 0, min: 0, max: 1) : (double?)null;
        if (ratio is 0.0 or 1.0) throw PassOptions.Invalid(RatioOption, options.GetString(RatioOption)!, "a share of the values strictly between 0 and 1, e.g. 0.5 or 50%");
        if (energy is 0.0) throw PassOptions.Invalid(EnergyOption, options.GetString(EnergyOption)!, "a share of Σσ² above 0 and at most 1, e.g. 0.9");
        if (ratio is not null && energy is not null)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption, $"{RatioOption} and {EnergyOption} are both set: the rank comes from one of them, remove the other.");
        if (ratio is null && energy is null)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption, $"{string.Join(" and ", options.Names)} {(options.Names.Count() == 1 ? "is" : "are")} set but no rank is: set {RatioOption} (e.g. 0.5) or {EnergyOption} (e.g. 0.9).");
        var layers = (options.GetString(LayersOption) ?? "")
            .Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => e.ToLowerInvariant())
            .Distinct()
            .ToArray();
        var storage = options.GetChoice(StorageOption, FactoredStorage, [FactoredStorage, DenseStorage]);
        return new LowRankPass(ratio, energy, layers, options.GetBool(CalibratedOption, false), storage == FactoredStorage);
    }

    /// <summary>The block matrices chosen in a model of shape <paramref name="config"/>; MSDK1053 for a selector that matches none.</summary>
    public IReadOnlyList<string> SelectMatrices(LlamaConfig config)
    {
        var all = Enumerable.Range(0, config.Layers).SelectMany(l => LlamaLinears.All.Select(k => LlamaLinears.TensorName(k, l))).ToArray();
        if (Layers.Count == 0) return all;
        if (Layers.FirstOrDefault(entry => !all.Any(name => PruningTargets.Matches(entry, name))) is { } unknown)
            throw new ModelSdkException(DiagnosticCodes.InvalidLowRankTarget,
                $"{LayersOption} names '{unknown}', which is no matrix of this model ({config.Layers} blocks, layers.0 to layers.{config.Layers - 1}). " +
                "Use wq, wk, wv, wo, w1, w2, w3 (that matrix in every block), layers.N (every matrix of block N) or a tensor name such as layers.0.feed_forward.w1.");
        return all.Where(name => Layers.Any(entry => PruningTargets.Matches(entry, name))).ToArray();
    }

    public void Validate(LlamaConfig config)
    {
        foreach (var name in SelectMatrices(config))
        {
            var (rows, cols) = Shape(name, config);
            if (Ratio is { } ratio && LowRankFactors.RankForRatio(rows, cols, ratio) < 1)
                throw new ModelSdkException(DiagnosticCodes.InvalidLowRankTarget,
                    $"{RatioOption}={ratio.ToString(CultureInfo.InvariantCulture)} leaves {name} ([{rows}, {cols}]) rank 0: " +
                    $"use at least {((rows + cols) / ((double)rows * cols)).ToString("0.####", CultureInfo.InvariantCulture)}.");
        }
    }

    public void Run(WorkingModel model, PassContext context)
    {
        var config = model.Config;
        var names = SelectMatrices(config);
        var (factored, results) = Calibrated ? FactorOnCalibration(model, names, context) : FactorWeights(model, names, context);
        for (var i = 0; i < names.Count; i++) model.SetLowRank(names[i], factored[i], Factored);
        var dense = names.Sum(n => (long)Shape(n, config).Rows * Shape(n, config).Cols);
        var values = results.Sum(r => r.Values);
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {names.Count} matrices, ranks {results.Min(r => r.Rank)}..{results.Max(r => r.Rank)}, {values} of {dense} values ({100.0 * values / dense:0.0}%), " +
            $"kept Σσ² {results.Min(r => r.Energy):0.0000}..{results.Max(r => r.Energy):0.0000} (stored as {(Factored ? "factors" : "dense products")})"));
        context.RecordResult(this, "ranks", string.Join(",", results.Select(r => r.Rank.ToString(CultureInfo.InvariantCulture))));
        context.RecordResult(this, "factorValues", values.ToString(CultureInfo.InvariantCulture));
        context.RecordResult(this, "denseValues", dense.ToString(CultureInfo.InvariantCulture));
    }

    private int RankFor(int rows, int cols, double[] sigma)
        => Ratio is { } ratio ? LowRankFactors.RankForRatio(rows, cols, ratio) : TruncatedSvd.RankForEnergy(sigma, Energy!.Value);

    private static (int Rank, double Energy, long Values) Summary(LowRankFactors factors, double[] sigma)
    {
        var total = sigma.Sum(s => s * s);
        return (factors.Rank, total > 0 ? sigma.Take(factors.Rank).Sum(s => s * s) / total : 1, factors.ValueCount);
    }

    /// <summary>Plain truncated SVD of each matrix's weights, the matrices in parallel.</summary>
    private (LowRankFactors[], (int Rank, double Energy, long Values)[]) FactorWeights(WorkingModel model, IReadOnlyList<string> names, PassContext context)
    {
        var config = model.Config;
        var weights = names.Select(model.GetFloats).ToArray(); // read before the parallel part: the model is not thread-safe
        var factored = new LowRankFactors[names.Count];
        var results = new (int Rank, double Energy, long Values)[names.Count];
        var done = 0;
        Parallel.For(0, names.Count, new ParallelOptions { CancellationToken = context.CancellationToken }, i =>
        {
            var (rows, cols) = Shape(names[i], config);
            var (factors, sigma) = TruncatedSvd.Factor(weights[i], rows, cols, s => RankFor(rows, cols, s), context.CancellationToken);
            factored[i] = factors;
            results[i] = Summary(factors, sigma);
            context.ReportProgress(Name, Interlocked.Increment(ref done) / (double)names.Count);
        });
        return (factored, results);
    }

    /// <summary>
    /// Activation-aware factors, block by block: the calibration text runs through the model (<see cref="CalibrationForward"/>);
    /// the matrices reading an input are factored on its Gram matrix, and the rest of the block and the next blocks see
    /// the factored matrices (as GPTQ's sequential mode does).
    /// </summary>
    private (LowRankFactors[], (int Rank, double Energy, long Values)[]) FactorOnCalibration(WorkingModel model, IReadOnlyList<string> names, PassContext context)
    {
        var config = model.Config;
        var index = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var factored = new LowRankFactors[names.Count];
        var results = new (int Rank, double Energy, long Values)[names.Count];
        var forward = new CalibrationForward(config, context.Calibration.Sequences, ct: context.CancellationToken);
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var weights = LlamaLayerWeights.Load(model, layer);
            forward.Layer(x, weights, (input, activations) =>
            {
                var kinds = LlamaLinears.Reading(input).Where(k => index.ContainsKey(LlamaLinears.TensorName(k, layer))).ToArray();
                if (kinds.Length == 0) return;
                var gram = forward.Gram(activations);
                foreach (var kind in kinds)
                {
                    var (rows, cols) = LlamaLinears.Shape(kind, config);
                    var i = index[LlamaLinears.TensorName(kind, layer)];
                    var (factors, sigma) = TruncatedSvd.FactorWhitened(weights[kind], rows, cols, gram, s => RankFor(rows, cols, s), ct: context.CancellationToken);
                    factored[i] = factors;
                    results[i] = Summary(factors, sigma);
                    weights[kind] = factors.Product();
                }
            });
            context.ReportProgress(Name, (layer + 1.0) / config.Layers);
        }
        return (factored, results);
    }

    private static (int Rows, int Cols) Shape(string name, LlamaConfig config)
    {
        var kind = LlamaLinears.All.First(k => name.EndsWith(LlamaLinears.TensorName(k, 0)["layers.0".Length..], StringComparison.Ordinal));
        return LlamaLinears.Shape(kind, config);
    }
}
