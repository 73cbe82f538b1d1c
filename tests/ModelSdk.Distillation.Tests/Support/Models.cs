using ModelSdk.Compression.Pipeline;

namespace ModelSdk.Distillation.Tests.Support;

/// <summary>The real stories15M from ../shared/models, and a temporary folder for artifacts (deleted at exit).</summary>
internal static class Models
{
    private static readonly Lazy<string> Temp = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelsdk-distillation-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return path;
    });

    public static string TempDirectory => Temp.Value;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SharedModels => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));

    public static string Checkpoint => Path.Combine(SharedModels, "stories15M.bin");

    public static string Tokenizer => Path.Combine(SharedModels, "tokenizer.model");

    public static string DevText => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "eval", "dev.txt"));

    /// <summary>Compiles stories15M with <paramref name="request"/>'s passes (none by default) into the temporary folder.</summary>
    public static string Compile(string artifactName, Func<CompileRequest, CompileRequest>? configure = null, Action<string>? log = null)
    {
        var request = new CompileRequest(Checkpoint, Tokenizer, "0.1.0");
        var plan = ModelCompiler.Plan(configure?.Invoke(request) ?? request);
        var artifact = Path.Combine(TempDirectory, artifactName);
        ModelCompiler.Compile(plan, artifact, new CompileOptions { Log = log });
        return artifact;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No ModelSdk.sln above {AppContext.BaseDirectory}.");
    }
}
