using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Pruning;

/// <summary>
/// <c>JointQuantization="true"</c>: SparseGPT quantizes the weights it keeps inside its sweep, in the format and group
/// size of the pipeline's quantization pass (<see cref="SparseGptPass.JointQuantization"/>). Valid only where that pass
/// then finds exactly those codes again: <c>sparsegpt</c> followed by symmetric round-to-nearest int8/int4 (MSDK1023
/// otherwise, before any work).
/// </summary>
public static class JointQuantizationOption
{
    public const string Name = "JointQuantization";

    /// <summary>Reads the option (removing it from the pruning options, whose pass is not known to accept it yet).</summary>
    public static bool Read(ref PassOptions pruningOptions)
    {
        if (!pruningOptions.Has(Name)) return false;
        var given = pruningOptions;
        var requested = given.GetBool(Name, false);
        pruningOptions = new PassOptions(given.Names.Where(n => !string.Equals(n, Name, StringComparison.OrdinalIgnoreCase))
            .Select(n => new KeyValuePair<string, string>(n, given.GetString(n)!)));
        return requested;
    }

    /// <summary>Checks the combination and hands the quantization format to the SparseGPT pass.</summary>
    public static void Apply(IReadOnlyList<IModelPass> pruning, IReadOnlyList<IModelPass> quantization)
    {
        if (pruning is not [SparseGptPass sparseGpt])
            throw Unsupported($"{Name} quantizes inside SparseGPT's weight reconstruction: it needs Prune=\"sparsegpt\", not \"{(pruning.Count == 0 ? "none" : pruning[0].Name)}\".");
        if (quantization is not [RtnPass { Format.Scheme: QuantScheme.Symmetric } rtn])
            throw Unsupported($"{Name} needs Quantize=\"rtn-int8\" or \"rtn-int4\" with Symmetric=\"true\", whose round-to-nearest finds the jointly quantized codes again; " +
                $"not {(quantization.Count == 0 ? "none" : $"\"{quantization[0].Name}\"" + (quantization[0] is RtnPass ? " with Symmetric=\"false\" (it would move the pruned zeros)" : ""))}.");
        if (sparseGpt.Targets.IncludeClassifier && !rtn.QuantizeClassifier)
            throw Unsupported($"{Name} with PruneClassifier=\"true\" quantizes the classifier, but QuantizeClassifier=\"false\" keeps it fp32: set QuantizeClassifier=\"true\" or PruneClassifier=\"false\".");
        sparseGpt.JointQuantization = rtn.Format;
    }

    private static ModelSdkException Unsupported(string message) => new(DiagnosticCodes.JointQuantizationUnsupported, message);
}
