namespace ModelSdk.IntegrationTests.Infrastructure;

public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    public static string ScenarioSource(string name) => Path.Combine(Root, "tests", "ModelSdk.IntegrationTests", "Scenarios", name);

    public static string SharedModelsFolder => Path.GetFullPath(Path.Combine(Root, "..", "shared", "models"));

    /// <summary>The real model: the shared copy beside the repository when there is one, else the sample's copy in it.</summary>
    public static string ModelsFolder => File.Exists(Path.Combine(SharedModelsFolder, "stories15M.bin"))
        ? SharedModelsFolder
        : Path.Combine(Root, "samples", "TinyStories", "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Run the tests from inside the ModelSdk repository.");
    }
}
