using Xunit;

namespace ModelSdk.IntegrationTests.Infrastructure;

/// <summary>
/// Packs ModelSdk.Sdk (and the runtime it references) once per test run, with a version no earlier run used,
/// into a private feed, and restores scenarios into a private package folder: NuGet's cache never serves a stale SDK.
/// </summary>
public sealed class PackedSdk : IDisposable
{
    public PackedSdk()
    {
        Version = $"0.1.0-it.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        WorkRoot = Directory.CreateTempSubdirectory("modelsdk-it-").FullName;
        Feed = Path.Combine(WorkRoot, "feed");
        Packages = Path.Combine(WorkRoot, "packages");
        // Packing restores the repository's own projects: with the machine's package folder, so their obj/ stays valid after this run.
        var pack = DotNet.Run(RepoPaths.Root, new Dictionary<string, string>(), "pack", Path.Combine(RepoPaths.Root, "sdk", "ModelSdk.Sdk", "ModelSdk.Sdk.csproj"),
            "-c", "Release", "-o", Feed, $"-p:ModelSdkVersion={Version}");
        if (pack.ExitCode != 0) throw new InvalidOperationException($"Packing the SDK failed: {pack}");
    }

    public string Version { get; }

    public string WorkRoot { get; }

    public string Feed { get; }

    public string Packages { get; }

    public IReadOnlyDictionary<string, string> BuildEnvironment => new Dictionary<string, string> { ["NUGET_PACKAGES"] = Packages };

    public Scenario CreateScenario(string name) => new(this, name);

    public void Dispose()
    {
        try { Directory.Delete(WorkRoot, recursive: true); }
        catch (IOException) { /* a scenario process may still hold a file; the temp folder is cleaned by the OS */ }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedSdkCollection : ICollectionFixture<PackedSdk>
{
    public const string Name = "Packed SDK";
}
