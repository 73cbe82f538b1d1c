using Microsoft.Build.Framework;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>
/// A Model item's distillation metadata. <c>Distill="true"</c> appends the <c>distill</c> pass (after Prune and Quantize;
/// its training text is CalibrationData); <c>Distill&lt;Option&gt;</c> metadata are its options, named as the CLI's
/// <c>--distill-&lt;option&gt;</c> (DistillSteps, DistillLearningRate, ...). The pass lives in the ModelSdk.Distillation
/// package (TorchSharp), which this assembly never references: it is created through the package's <see cref="PassPlugins"/>.
/// </summary>
internal static class DistillMetadata
{
    /// <summary>The metadata that turns distillation on, and the prefix of its options.</summary>
    public const string Switch = "Distill";

    /// <summary>The pass's <see cref="PassDescriptor.Name"/> in ModelSdk.Distillation.</summary>
    public const string PassName = "distill";

    public const string PackageId = "ModelSdk.Distillation";

    public static bool IsDistillMetadata(string name) => name.StartsWith(Switch, StringComparison.OrdinalIgnoreCase);

    /// <summary>The pass's options (prefix removed: DistillSteps → Steps), or null when the item does not distill.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? Read(ITaskItem item)
    {
        var options = item.CloneCustomMetadata().Keys.Cast<string>()
            .Where(name => name.Length > Switch.Length && IsDistillMetadata(name) && !string.IsNullOrWhiteSpace(item.GetMetadata(name)))
            .Select(name => new KeyValuePair<string, string>(name[Switch.Length..], item.GetMetadata(name).Trim()))
            .ToArray();
        if (new PassOptions([new(Switch, item.GetMetadata(Switch))]).GetBool(Switch, false)) return options;
        if (options.FirstOrDefault() is { Key: { } stray })
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{Switch}{stray} is set but {Switch} is not: set {Switch}=\"true\", or remove {Switch}{stray}.");
        return null;
    }

    /// <summary>Creates the pass from the plug-in (MSDK1060 when the package is not referenced; MSDK1012 for a bad or unknown option).</summary>
    public static IModelPass Create(IReadOnlyList<KeyValuePair<string, string>> options, PassPlugins plugins, string sdkVersion, string itemSpec)
    {
        if (!plugins.Any)
            throw new ModelSdkException(DiagnosticCodes.DistillationPackageMissing,
                $"The Model item '{itemSpec}' sets {Switch}, and distillation runs in the {PackageId} package (TorchSharp, LibTorch), which this project does not reference. " +
                $"Add <PackageReference Include=\"{PackageId}\" Version=\"{sdkVersion}\" /> to the project.");
        var descriptor = plugins.Find(PassName)
            ?? throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded,
                $"No referenced pass plug-in provides '{PassName}' (loaded: {string.Join(", ", plugins.Paths.Select(Path.GetFileName))}).");
        var passOptions = new PassOptions(options);
        IModelPass pass;
        try
        {
            pass = descriptor.Create(passOptions);
        }
        catch (ModelSdkException e) when (e.Code == DiagnosticCodes.InvalidCompressionOption)
        {
            // The pass names its option as the CLI and the API spell it ("Steps=..."); on a Model item it is DistillSteps.
            throw new ModelSdkException(e.Code, Switch + e.Detail, e.FilePath, e);
        }
        if (passOptions.Unread.FirstOrDefault() is { } unused)
            throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption,
                $"{Switch}{unused} is not a distillation option. Valid: {string.Join(", ", descriptor.OptionNames.Select(n => Switch + n))}.");
        return pass;
    }
}
