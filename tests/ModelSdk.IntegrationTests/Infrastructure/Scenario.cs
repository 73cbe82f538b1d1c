namespace ModelSdk.IntegrationTests.Infrastructure;

/// <summary>
/// A copy of one folder under Scenarios/ in a fresh temp folder, set up as a user's project would be:
/// a nuget.config naming the packed feed, a global.json pinning ModelSdk.Sdk to the packed version, and
/// the real model under models/.
/// </summary>
public sealed class Scenario
{
    private readonly PackedSdk _sdk;

    internal Scenario(PackedSdk sdk, string name)
    {
        _sdk = sdk;
        Directory = Path.Combine(sdk.WorkRoot, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
        CopyDirectory(RepoPaths.ScenarioSource(name), Directory);
        File.WriteAllText(Path.Combine(Directory, "global.json"),
            $$"""{ "msbuild-sdks": { "ModelSdk.Sdk": "{{sdk.Version}}" } }""");
        File.WriteAllText(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="modelsdk" value="{sdk.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        // Stops MSBuild from importing anything above the scenario folder, tells PackageReference scenarios the version,
        // and gives each scenario its own model cache (a test shares one by setting ModelSdkCacheDirectory).
        File.WriteAllText(Path.Combine(Directory, "Directory.Build.props"), $"""
            <Project><PropertyGroup>
              <ModelSdkTestVersion>{sdk.Version}</ModelSdkTestVersion>
              <ModelSdkCacheDirectory Condition="'$(ModelSdkCacheDirectory)' == ''">$(MSBuildThisFileDirectory)modelsdk-cache</ModelSdkCacheDirectory>
            </PropertyGroup></Project>
            """);
        File.WriteAllText(Path.Combine(Directory, "Directory.Build.targets"), "<Project />");
        var models = Path.Combine(Directory, "models");
        System.IO.Directory.CreateDirectory(models);
        foreach (var file in new[] { "stories15M.bin", "tokenizer.model" })
            File.CreateSymbolicLink(Path.Combine(models, file), Path.Combine(RepoPaths.ModelsFolder, file));
    }

    public string Directory { get; }

    public string PathOf(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    public string IntermediateModels => PathOf("obj", "Release", "net10.0", "modelsdk");

    public DotNet.Result Build(params string[] extra) => DotNet.Run(Directory, _sdk.BuildEnvironment, ["build", "-c", "Release", "-v:n", .. extra]);

    public DotNet.Result RunApp(string assemblyName = "App", params string[] arguments) =>
        DotNet.Run(Directory, _sdk.BuildEnvironment, [PathOf("bin", "Release", "net10.0", assemblyName + ".dll"), .. arguments]);

    /// <summary>
    /// Lets restore take packages from the machine's NuGet folder before downloading them into the run's private one (the
    /// SDK's packages are fresh versions, never found there): a scenario that needs LibTorch (about 475 MB) does not
    /// download and extract it on every run.
    /// </summary>
    public void UseMachinePackagesAsFallback()
    {
        var machine = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = PathOf("nuget.config");
        File.WriteAllText(config, File.ReadAllText(config).Replace("</configuration>",
            $"""  <fallbackPackageFolders><add key="machine" value="{machine}" /></fallbackPackageFolders>{Environment.NewLine}</configuration>"""));
    }

    /// <summary>Replaces <paramref name="from"/> (which must occur) with <paramref name="to"/> in the scenario's App.csproj.</summary>
    public void EditProject(string from, string to)
    {
        var project = PathOf("App.csproj");
        var text = File.ReadAllText(project);
        Xunit.Assert.Contains(from, text);
        File.WriteAllText(project, text.Replace(from, to));
    }

    /// <summary>Replaces a model file with a private copy (so a test can corrupt it without touching the real one).</summary>
    public string OwnCopy(string file)
    {
        var path = PathOf("models", file);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void CopyDirectory(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var file in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, file));
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
