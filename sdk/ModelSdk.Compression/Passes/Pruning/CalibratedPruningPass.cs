using System.Diagnostics;
using System.Globalization;
using ModelSdk.Compression.Calibration;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// Pruning that looks at the inputs each matrix really sees (Wanda, SparseGPT), sequentially as both papers do: the
/// calibration sequences run through the model block by block in fp32 (<see cref="CalibrationForward"/>); inside a
/// block, the matrices reading an input (wq/wk/wv, then wo, then w1/w3, then w2) are pruned on that input as the already
/// pruned matrices before them produce it, and the next block receives the pruned block's output. With
/// <c>PruneClassifier="true"</c> the classifier is pruned last on the final RMSNorm's output (a separate token embedding,
/// whose input is a one-hot row, by magnitude).
/// </summary>
public abstract class CalibratedPruningPass(SparsityPattern pattern, PruningTargets targets) : PruningPass(pattern, targets)
{
    public override bool NeedsCalibration => true;

    /// <summary>
    /// Prepares for the matrices that read <paramref name="input"/> (statistics computed once, shared by them) and returns
    /// how to prune one of them: (row-major weights, rows, cols, its sparsity) → pruned weights.
    /// </summary>
    protected abstract Func<float[], int, int, SparsityPattern, float[]> ForInput(CalibrationForward forward, Activations input, CancellationToken ct);

    public override void Run(WorkingModel model, PassContext context)
    {
        var clock = Stopwatch.StartNew();
        var config = model.Config;
        var ct = context.CancellationToken;
        var selected = Targets.SelectLayerMatrices(config).ToHashSet(StringComparer.Ordinal);
        var forward = new CalibrationForward(config, context.Calibration.Sequences, ct: ct);
        context.Log($"{Name}: Sparsity={Pattern}, {selected.Count} matrices, {forward.Tokens} calibration tokens in {forward.Sequences.Count} sequences");

        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var weights = LlamaLayerWeights.Load(model, layer);
            forward.Layer(x, weights, (input, activations) =>
            {
                var kinds = LlamaLinears.Reading(input).Where(k => selected.Contains(LlamaLinears.TensorName(k, layer))).ToArray();
                if (kinds.Length == 0) return;
                var prune = ForInput(forward, activations, ct);
                foreach (var kind in kinds)
                {
                    var (rows, cols) = LlamaLinears.Shape(kind, config);
                    var name = LlamaLinears.TensorName(kind, layer);
                    var pruned = prune(weights[kind], rows, cols, Targets.PatternFor(name, Pattern));
                    model.SetFloats(name, pruned);
                    weights[kind] = pruned;
                }
            });
            context.ReportProgress(Name, (layer + 1.0) / (config.Layers + (Targets.IncludeClassifier ? 1 : 0)));
        }

        if (Targets.IncludeClassifier)
        {
            var classifier = config.SharedClassifier ? TensorNames.TokenEmbedding : TensorNames.Classifier;
            var hidden = forward.RmsNorm(x, model.GetFloats(TensorNames.FinalNorm));
            var tensor = model[classifier];
            model.SetFloats(classifier, ForInput(forward, hidden, ct)(model.GetFloats(classifier), tensor.Rows, tensor.Cols, Pattern));
            if (!config.SharedClassifier)
                new MagnitudePruningPass(Pattern, new PruningTargets([], false)).PruneMatrix(model, TensorNames.TokenEmbedding, ct);
            context.ReportProgress(Name, 1);
        }
        context.Log($"{Name}: done in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
    }
}
