using Microsoft.Build.Framework;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>
/// The pass plug-ins a project references (<c>ModelSdkPassPlugin</c> items that a package's targets add, e.g.
/// ModelSdk.Distillation's), loaded on the first <see cref="Find"/> only: a build whose Model items use none of their
/// passes never loads them (nor TorchSharp).
/// Item: the plug-in assembly; metadata <c>AssemblyDirectories</c> (where its dependencies are) and <c>NativeLibraries</c>
/// (full paths, loaded in this order), both separated by semicolons; <c>SdkVersion</c>, the ModelSdk version the plug-in
/// was built with, which must be the task's (a plug-in runs against the task's ModelSdk.Compression).
/// </summary>
internal sealed class PassPlugins(IReadOnlyList<ITaskItem> items, string sdkVersion)
{
    private readonly Lock _lock = new();
    private IReadOnlyList<PassDescriptor>? _passes;

    public bool Any => items.Count > 0;

    public IEnumerable<string> Paths => items.Select(i => i.GetMetadata("FullPath"));

    public PassDescriptor? Find(string name)
    {
        lock (_lock) _passes ??= items.SelectMany(item => Load(item, sdkVersion)).ToArray();
        return _passes.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    private static IReadOnlyList<PassDescriptor> Load(ITaskItem item, string sdkVersion)
    {
        var path = item.GetMetadata("FullPath");
        var version = item.GetMetadata("SdkVersion");
        if (version.Length > 0 && version != sdkVersion)
            throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded,
                $"The pass plug-in {Path.GetFileName(path)} is version {version}, and ModelSdk.Sdk is {sdkVersion}: reference the plug-in's package at {sdkVersion}.", path);
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded, "The pass plug-in assembly does not exist.", path);
        return PassPluginLoadContext.Load(path, List(item, "AssemblyDirectories"), List(item, "NativeLibraries")).Passes;
    }

    private static string[] List(ITaskItem item, string name)
        => item.GetMetadata(name).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
