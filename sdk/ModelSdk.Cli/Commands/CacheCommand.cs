using System.CommandLine;
using ModelSdk.Compression.Pipeline;

namespace ModelSdk.Cli.Commands;

/// <summary>
/// <c>modelsdk cache clean [--cache-dir DIR] [--max-size 10GB] [--max-age 30d]</c>: trims the per-user cache of compiled
/// models that every project shares (what the <c>ModelSdkClean</c> target does), least recently used entries first.
/// </summary>
internal static class CacheCommand
{
    public static Option<DirectoryInfo?> DirectoryOption(string description) => new("--cache-dir") { Description = description };

    public static Command Create()
    {
        var directory = DirectoryOption($"The cache folder (default: {ModelCache.DefaultDirectory}).");
        var maxSize = new Option<string?>("--max-size") { Description = "Keep at most this much (e.g. 10GB, 500MB); least recently used entries go first." };
        var maxAge = new Option<string?>("--max-age") { Description = "Remove entries unused for longer than this (e.g. 30d, 12h)." };
        var clean = new Command("clean", "Trim the shared model cache by size and age.") { directory, maxSize, maxAge };
        clean.SetAction(parse => ModelInputs.Run(() =>
        {
            var size = CacheLimits.ParseSize(parse.GetValue(maxSize));
            var age = CacheLimits.ParseAge(parse.GetValue(maxAge));
            var cache = new ModelCache(parse.GetValue(directory)?.FullName ?? ModelCache.DefaultDirectory);
            var result = cache.Trim(size, age);
            Console.WriteLine($"{cache.Directory}: removed {result.RemovedEntries} entries ({result.RemovedBytes / 1e6:0.0} MB), " +
                $"kept {result.KeptEntries} ({result.KeptBytes / 1e6:0.0} MB)");
            return 0;
        }));
        return new Command("cache", "The per-user cache of compiled models shared by all projects.") { clean };
    }
}
