using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ModelSdk.Compression.Passes;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>
/// Loads a pass plug-in (<see cref="IPassPlugin"/>) beside the task's own assemblies. Whatever the task's context can load
/// (ModelSdk.Compression, ModelSdk.Model, the framework) comes from it, so the plug-in's passes implement the very
/// <see cref="IModelPass"/> the compiler runs; anything else comes from the plug-in's folder or its assembly directories
/// (e.g. TorchSharp in the NuGet package folder). The native libraries are loaded by full path, in the given order, before
/// the plug-in: a library that does not load fails the build with MSDK1061 before any work, and a <c>DllImport</c> by name
/// (TorchSharp's "LibTorchSharp") resolves to the loaded file, so nothing is copied into the app or the task's folder.
/// One context per plug-in path and process: native libraries cannot be loaded twice, and a reused build node keeps it.
/// </summary>
internal sealed class PassPluginLoadContext : AssemblyLoadContext
{
    private static readonly Lock LoadedLock = new();
    private static readonly Dictionary<string, IPassPlugin> Loaded = new(StringComparer.Ordinal);

    private readonly AssemblyLoadContext _host = GetLoadContext(typeof(IModelPass).Assembly) ?? Default;
    private readonly string[] _assemblyDirectories;
    private readonly Dictionary<string, IntPtr> _natives = new(StringComparer.Ordinal);

    private PassPluginLoadContext(string pluginPath, IEnumerable<string> assemblyDirectories)
        : base($"ModelSdk plug-in {Path.GetFileName(pluginPath)}")
        => _assemblyDirectories = [Path.GetDirectoryName(pluginPath)!, .. assemblyDirectories];

    /// <summary>The plug-in at <paramref name="path"/>, loaded once per process (failures are not remembered: a fixed restore is picked up).</summary>
    public static IPassPlugin Load(string path, IReadOnlyList<string> assemblyDirectories, IReadOnlyList<string> nativeLibraries)
    {
        lock (LoadedLock)
        {
            if (Loaded.TryGetValue(path, out var loaded)) return loaded;
            var context = new PassPluginLoadContext(path, assemblyDirectories);
            foreach (var library in nativeLibraries) context.LoadNative(library);
            var assembly = context.LoadFromAssemblyPath(path);
            var type = assembly.GetExportedTypes().FirstOrDefault(t => typeof(IPassPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                ?? throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded,
                    $"{Path.GetFileName(path)} has no public {nameof(IPassPlugin)} class for this ModelSdk (is it the version of ModelSdk.Sdk?).", path);
            return Loaded[path] = (IPassPlugin)Activator.CreateInstance(type)!;
        }
    }

    private void LoadNative(string path)
    {
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded, "A native library of the pass plug-in is missing.", path);
        try
        {
            _natives[Path.GetFileName(path)] = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new ModelSdkException(DiagnosticCodes.DistillationPluginNotLoaded, $"A native library of the pass plug-in did not load: {e.Message}", path, e);
        }
    }

    protected override Assembly? Load(AssemblyName name)
    {
        try
        {
            return _host.LoadFromAssemblyName(name);
        }
        catch (FileNotFoundException)
        {
            // Not one of the task's assemblies: the plug-in's own dependency.
        }
        foreach (var directory in _assemblyDirectories)
        {
            var candidate = Path.Combine(directory, name.Name + ".dll");
            if (File.Exists(candidate)) return LoadFromAssemblyPath(candidate);
        }
        return null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var file in new[] { unmanagedDllName, $"lib{unmanagedDllName}.so", $"{unmanagedDllName}.so", $"lib{unmanagedDllName}.dylib", $"{unmanagedDllName}.dll" })
            if (_natives.TryGetValue(file, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
