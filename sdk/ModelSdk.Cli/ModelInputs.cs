using ModelSdk.Artifacts;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime;

namespace ModelSdk.Cli;

/// <summary>Opens what a user names on the command line: a compiled .msdk artifact, or a checkpoint compiled on the fly.</summary>
internal static class ModelInputs
{
    public const string SdkVersion = "cli";

    public static LanguageModel Load(string path, string? tokenizer, int? threads)
    {
        // Evaluation reads CPU sessions (TextEvaluator): never the GPU backend that Device = Auto would pick.
        var options = new LoadOptions { Threads = threads, Device = ModelDevice.Cpu };
        if (path.EndsWith(ArtifactFormat.FileExtension, StringComparison.OrdinalIgnoreCase)) return LanguageModel.Load(path, options);
        if (tokenizer is null)
            throw new ModelSdkException(DiagnosticCodes.TokenizerMissing, "A checkpoint needs --tokenizer to be evaluated.", path);

        var temp = Path.Combine(Path.GetTempPath(), $"modelsdk-{Guid.NewGuid():N}{ArtifactFormat.FileExtension}");
        ModelCompiler.Compile(ModelCompiler.Plan(new CompileRequest(path, tokenizer, SdkVersion)), temp);
        try
        {
            return LanguageModel.Load(temp, options);
        }
        finally
        {
            // The mapping keeps the data alive on Unix; elsewhere the file stays until reboot cleans the temp folder.
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Compiles <paramref name="plan"/> to <paramref name="target"/>; with a cache folder, through the shared cache the
    /// build uses (an entry compiled before is copied, not compiled again).
    /// </summary>
    public static ArtifactManifest CompileTo(CompilePlan plan, string target, CompileOptions options, string? cacheDirectory)
    {
        if (cacheDirectory is null)
        {
            var manifest = ModelCompiler.Compile(plan, target, options);
            return manifest;
        }
        var log = options.Log ?? (_ => { });
        var entry = new ModelCache(cacheDirectory).GetOrAdd(plan, path => ModelCompiler.Compile(plan, path, options), log, options.CancellationToken);
        if (entry.Hit) log($"cache hit: {entry.Path}");
        entry.CopyTo(target);
        return entry.Manifest;
    }

    /// <summary>Runs a command body; bad input prints its MSDK error and exits 1 instead of a stack trace.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ModelSdkException e)
        {
            Console.Error.WriteLine($"error {e.Message}");
            return 1;
        }
    }
}
