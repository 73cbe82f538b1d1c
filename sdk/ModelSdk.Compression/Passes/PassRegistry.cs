using ModelSdk.Compression.Passes.Quantization;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// Every pass a user can name, in one list: <c>Quantize="..."</c> (and <c>modelsdk compress --quantize ...</c>) picks one
/// by <see cref="PassDescriptor.Name"/>; its options come from the metadata names in <see cref="PassDescriptor.OptionNames"/>.
/// To add a pass: write the class with a static <c>Descriptor</c> and add it to <see cref="All"/>.
/// </summary>
public static class PassRegistry
{
    /// <summary>The value that means "no compression" (also the default).</summary>
    public const string None = "none";

    public static IReadOnlyList<PassDescriptor> All { get; } =
    [
        F16Pass.Descriptor,
        RtnInt8Pass.Descriptor,
        RtnInt4Pass.Descriptor,
        GptqInt8Pass.Descriptor,
        GptqInt4Pass.Descriptor,
        AwqPass.Descriptor,
    ];

    /// <summary>Valid <c>Quantize</c> values, <see cref="None"/> first.</summary>
    public static IReadOnlyList<string> Names => [None, .. All.Select(d => d.Name)];

    /// <summary>Every option name some pass reads (the Model item metadata they correspond to).</summary>
    public static IReadOnlyList<string> OptionNames => All.SelectMany(d => d.OptionNames).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    public static PassDescriptor? Find(string name) => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The passes a <c>Quantize</c> value and its options ask for: empty for "none" (or no value). Unknown names are
    /// MSDK1011, bad or inapplicable options MSDK1012 — each listing the valid choices.
    /// </summary>
    public static IReadOnlyList<IModelPass> Create(string? quantize, PassOptions options)
    {
        var name = quantize?.Trim();
        if (string.IsNullOrEmpty(name) || string.Equals(name, None, StringComparison.OrdinalIgnoreCase))
        {
            if (options.Names.FirstOrDefault() is { } stray)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                    $"{stray} is set but no compression is: set Quantize to one of {string.Join(", ", Names.Skip(1))}, or remove {stray}.");
            return [];
        }
        var descriptor = Find(name)
            ?? throw new ModelSdkException(DiagnosticCodes.UnknownCompressionPass,
                $"Quantize=\"{name}\" is not a compression ModelSdk knows. Valid values: {string.Join(", ", Names)}.");
        var pass = descriptor.Create(options);
        if (options.Unread.FirstOrDefault() is { } unused)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{unused} does not apply to {descriptor.Name}" +
                (descriptor.OptionNames.Count == 0 ? ", which has no options." : $", whose options are {string.Join(", ", descriptor.OptionNames)}."));
        return [pass];
    }
}
