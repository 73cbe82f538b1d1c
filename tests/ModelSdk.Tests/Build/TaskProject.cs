using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelSdk.Build;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Build;

/// <summary>
/// A project folder for running <see cref="CompileModels"/> in-process as the SDK's targets do: the real model under
/// models/ (links), Model items with the paths the targets compute, and a cache folder of the test's choosing.
/// </summary>
internal sealed class TaskProject
{
    public TaskProject(string root, string name, string cacheDirectory)
    {
        Directory = Path.Combine(root, name);
        CacheDirectory = cacheDirectory;
        var models = Path.Combine(Directory, "models");
        System.IO.Directory.CreateDirectory(models);
        foreach (var file in new[] { CheckpointFiles.Checkpoint, CheckpointFiles.Tokenizer })
            File.CreateSymbolicLink(Path.Combine(models, Path.GetFileName(file)), file);
        File.WriteAllText(ProjectFile, "<Project Sdk=\"ModelSdk.Sdk\" />");
    }

    public string Directory { get; }

    public string CacheDirectory { get; }

    public string ProjectFile => Path.Combine(Directory, "App.csproj");

    /// <summary>obj/…/modelsdk/ (the targets' ModelSdkIntermediateOutputPath).</summary>
    public string Intermediate => Path.Combine(Directory, "obj", "modelsdk");

    /// <summary>A Model item for the real stories15M, named and placed as _ModelSdkPrepare does.</summary>
    public ITaskItem Model(string className, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem("models/stories15M.bin");
        item.SetMetadata("Tokenizer", "models/tokenizer.model");
        item.SetMetadata("ClassName", className);
        foreach (var (name, value) in metadata) item.SetMetadata(name, value);
        item.SetMetadata("_ModelSdkArtifactPath", Path.Combine(Intermediate, className + ".msdk"));
        item.SetMetadata("_ModelSdkManifestPath", Path.Combine(Intermediate, className + ".msdk.json"));
        return item;
    }

    public CompileModels Task(RecordingBuildEngine engine, params ITaskItem[] models) => new()
    {
        BuildEngine = engine,
        Models = models,
        ProjectDirectory = Directory,
        ProjectFile = ProjectFile,
        SdkVersion = "1.0.0-test",
        CacheDirectory = CacheDirectory,
    };

    public (bool Succeeded, RecordingBuildEngine Engine) Compile(params ITaskItem[] models)
    {
        var engine = new RecordingBuildEngine();
        return (Task(engine, models).Execute(), engine);
    }
}
