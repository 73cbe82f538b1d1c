using ModelSdk.Architecture;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// One compression pass (quantization, pruning, ...): a stable name, a version, canonical options, and a
/// <see cref="Run"/> that transforms a <see cref="WorkingModel"/> by replacing its tensors. Passes run in the order the user
/// declared them. Everything that determines a pass's output must be in <see cref="Name"/>, <see cref="Version"/> and
/// <see cref="Options"/> (they enter the cache key and the manifest's <c>provenance.passes</c>), plus the calibration text,
/// which the compiler hashes itself.
/// </summary>
public interface IModelPass
{
    /// <summary>The name users write (<c>Quantize="rtn-int4"</c>); never changes.</summary>
    string Name { get; }

    /// <summary>Bump whenever the output for the same inputs and options changes (a bug fix, a new rounding rule): cached artifacts are rebuilt.</summary>
    int Version { get; }

    /// <summary>
    /// The effective options, defaults included, in a fixed order, values spelled canonically (invariant culture,
    /// "true"/"false", lower case): two spellings of the same configuration give the same list.
    /// </summary>
    IReadOnlyList<KeyValuePair<string, string>> Options { get; }

    /// <summary>True when <see cref="Run"/> reads <see cref="PassContext.Calibration"/> (the compiler then requires calibration data).</summary>
    bool NeedsCalibration { get; }

    /// <summary>The type the pass stores the layers' matrices in (the manifest's <c>weightFormat</c>), or null when it leaves them as they are.</summary>
    TensorType? MatrixType { get; }

    /// <summary>
    /// Checks the options against the model's shape, from the checkpoint header alone (milliseconds, before any work):
    /// e.g. a group size that does not divide a row length is MSDK1013. Throws a <see cref="Diagnostics.ModelSdkException"/>.
    /// </summary>
    void Validate(LlamaConfig config);

    /// <summary>
    /// The shape of the model this pass produces from one of shape <paramref name="input"/> (known from the checkpoint
    /// header, so the manifest and the generated class are right before any work). Only passes that change the
    /// architecture (drop-layers) override it; every later pass is validated against the shape it returns.
    /// </summary>
    LlamaConfig OutputConfig(LlamaConfig input) => input;

    /// <summary>Transforms <paramref name="model"/> in place. Report progress through <paramref name="context"/> and honour its cancellation token.</summary>
    void Run(WorkingModel model, PassContext context);
}

/// <summary>A registry entry: how a pass is named, described and created from options (see <see cref="PassRegistry"/>).</summary>
/// <param name="Name">The <c>Quantize</c> value.</param>
/// <param name="Summary">One line for error messages and help.</param>
/// <param name="OptionNames">The option names the pass reads (Model item metadata names, e.g. "GroupSize"); any other option given is an error.</param>
/// <param name="Create">Parses options (throws MSDK1012 on a bad value) and returns the pass.</param>
public sealed record PassDescriptor(string Name, string Summary, IReadOnlyList<string> OptionNames, Func<PassOptions, IModelPass> Create);
