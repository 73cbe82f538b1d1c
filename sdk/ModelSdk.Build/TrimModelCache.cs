using Microsoft.Build.Framework;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;

namespace ModelSdk.Build;

/// <summary>
/// The <c>ModelSdkClean</c> target's work: removes shared-cache entries unused for longer than <see cref="MaxAge"/>,
/// then the least recently used ones until the cache fits in <see cref="MaxSize"/>. Entries a build is writing are kept.
/// </summary>
public sealed class TrimModelCache : Microsoft.Build.Utilities.Task
{
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>The cache folder (relative to the project; empty: <see cref="ModelCache.DefaultDirectory"/>).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>"10GB", "500MB", bytes; empty: no size limit.</summary>
    public string? MaxSize { get; set; }

    /// <summary>"30d", "12h"; empty: no age limit.</summary>
    public string? MaxAge { get; set; }

    public override bool Execute()
    {
        try
        {
            var cache = new ModelCache(string.IsNullOrWhiteSpace(CacheDirectory)
                ? ModelCache.DefaultDirectory
                : Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDirectory.Trim())));
            var result = cache.Trim(CacheLimits.ParseSize(MaxSize), CacheLimits.ParseAge(MaxAge));
            Log.LogMessage(MessageImportance.High, $"ModelSdk: {cache.Directory}: removed {result.RemovedEntries} entries " +
                $"({result.RemovedBytes / 1e6:0.0} MB), kept {result.KeptEntries} ({result.KeptBytes / 1e6:0.0} MB).");
        }
        catch (ModelSdkException e)
        {
            Log.LogError("ModelSdk", e.Code.Id, e.Code.Id, e.Code.HelpLink, null, 0, 0, 0, 0, $"{e.Detail} {e.Fix}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogError("ModelSdk", DiagnosticCodes.ModelFileIo.Id, DiagnosticCodes.ModelFileIo.Id, DiagnosticCodes.ModelFileIo.HelpLink, null, 0, 0, 0, 0, e.Message);
        }
        return !Log.HasLoggedErrors;
    }
}
