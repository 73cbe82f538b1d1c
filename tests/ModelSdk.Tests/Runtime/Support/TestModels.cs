using ModelSdk.Compression.Pipeline;
using ModelSdk.Runtime;

namespace ModelSdk.Tests.Runtime.Support;

/// <summary>
/// The real models the runtime tests use, built once per test run: stories15M compiled from ../shared/models into a
/// temporary folder (deleted when the process exits), and the GQA variant derived from it.
/// </summary>
internal static class TestModels
{
    private static readonly Lazy<string> Temp = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelsdk-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return path;
    });

    private static readonly Lazy<string> Stories15MPath = new(() => Compile(Path.Combine(SharedModels, "stories15M.bin"), "stories15M.msdk"));

    private static readonly Lazy<string> GqaPath = new(() =>
    {
        var checkpoint = Path.Combine(TempDirectory, "stories15M-gqa3.bin");
        GqaCheckpoint.Derive(Path.Combine(SharedModels, "stories15M.bin"), checkpoint);
        return Compile(checkpoint, "stories15M-gqa3.msdk");
    });

    private static readonly Lazy<LanguageModel> Shared = new(() => LanguageModel.Load(Stories15MArtifact, new LoadOptions { Threads = 2 }));

    public static string TempDirectory => Temp.Value;

    /// <summary>The folder holding ModelSdk.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SharedModels => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));

    public static string Stories15MArtifact => Stories15MPath.Value;

    public static string GqaArtifact => GqaPath.Value;

    /// <summary>stories15M with 2 threads, shared by the tests (the model is thread-safe).</summary>
    public static LanguageModel Stories15M => Shared.Value;

    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    public static string[][] ReadTsv(string name)
        => File.ReadAllLines(DataFile(name)).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray();

    public static int[] ParseIds(string text)
        => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(w => int.TryParse(w, out _)).Select(int.Parse).ToArray();

    private static string Compile(string checkpoint, string artifactName)
    {
        var plan = ModelCompiler.Plan(new CompileRequest(checkpoint, Path.Combine(SharedModels, "tokenizer.model"), "0.1.0"));
        var artifact = Path.Combine(TempDirectory, artifactName);
        ModelCompiler.Compile(plan, artifact);
        return artifact;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ModelSdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No ModelSdk.sln above {AppContext.BaseDirectory}.");
    }
}
