namespace ModelSdk.IntegrationTests.Infrastructure;

public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    public static string ScenarioSource(string name) => Path.Combine(Root, "tests", "ModelSdk.IntegrationTests", "Scenarios", name);

    /// <summary>The real model kept in the repository for the sample.</summary>
    public static string ModelsFolder => Path.Combine(Root, "samples", "TinyStories", "models");

    public static string SharedModelsFolder => Path.GetFullPath(Path.Combine(Root, "..", "shared", "models"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Run the tests from inside the ModelSdk repository.");
    }
}
