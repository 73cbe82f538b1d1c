using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Pipeline;

/// <summary>
/// A per-user folder of compiled artifacts shared by every project and the CLI, addressed by the full cache key of
/// <see cref="ModelCompiler.Plan"/>: <c>v1/ab/abcd….msdk</c>. An entry is one artifact with its manifest inside;
/// it appears by atomic rename of a flushed temporary file and is validated (lengths, header, manifest and data
/// hashes) every time it is read, so a partial or damaged entry is never served: it is compiled again.
/// One build compiles a key at a time: a per-key lock file held with <see cref="FileShare.None"/> (released by the
/// OS when a process dies) makes a second build wait and then take the first one's entry.
/// </summary>
public sealed class ModelCache
{
    private const string Layout = "v1";
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(100);

    public ModelCache(string directory) => Directory = Path.GetFullPath(directory);

    public string Directory { get; }

    /// <summary>
    /// $XDG_CACHE_HOME/modelsdk when that is set, else %LOCALAPPDATA%\ModelSdk\cache on Windows and ~/.cache/modelsdk elsewhere.
    /// </summary>
    public static string DefaultDirectory
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "modelsdk");
            return OperatingSystem.IsWindows()
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "ModelSdk", "cache")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "modelsdk");
        }
    }

    public string EntryPath(string cacheKey)
    {
        if (cacheKey.Length < 32 || !cacheKey.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException($"'{cacheKey}' is not a full cache key.", nameof(cacheKey));
        return Path.Combine(Directory, Layout, cacheKey[..2], cacheKey + ArtifactFormat.FileExtension);
    }

    /// <summary>
    /// The entry of <paramref name="plan"/>'s key, compiled by <paramref name="compile"/> (which writes the artifact at
    /// the path it is given, atomically) unless a valid entry exists or another process makes one while this one waits.
    /// </summary>
    public CacheEntry GetOrAdd(CompilePlan plan, Action<string> compile, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var path = EntryPath(plan.CacheKey);
        if (TryOpen(path, log) is { } hit) return hit;

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (AcquireLock(LockPath(path), log, cancellationToken))
        {
            if (TryOpen(path, log) is { } madeMeanwhile) return madeMeanwhile;
            cancellationToken.ThrowIfCancellationRequested();
            compile(path);
            var made = TryOpen(path, log) ?? throw new InvalidOperationException($"The artifact just compiled into the cache does not validate: {path}");
            return made with { Hit = false };
        }
    }

    /// <summary>Removes entries unused for longer than <paramref name="maxAge"/>, then the least recently used until the cache holds at most <paramref name="maxBytes"/>.</summary>
    public CacheTrimResult Trim(long? maxBytes, TimeSpan? maxAge, DateTime? nowUtc = null)
    {
        var now = nowUtc ?? DateTime.UtcNow;
        var root = Path.Combine(Directory, Layout);
        if (!System.IO.Directory.Exists(root)) return new CacheTrimResult(0, 0, 0, 0);

        var entries = new List<FileInfo>();
        var removed = 0;
        long removedBytes = 0;
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            if (file.Name.EndsWith(ArtifactFormat.FileExtension, StringComparison.Ordinal) && !file.Name.StartsWith('.'))
                entries.Add(file);
            else if (file.Name.StartsWith('.') && KeyOfTemporary(file.Name) is { } key)
                // A temporary file whose key nobody holds is what a killed compile left behind.
                TryRemove(Path.Combine(file.DirectoryName!, key + ArtifactFormat.FileExtension), entryToo: false, file.FullName);
        }

        var kept = new List<FileInfo>();
        foreach (var entry in entries.OrderBy(LastUsed))
        {
            if (maxAge is { } age && now - LastUsed(entry) > age && TryRemove(entry.FullName, entryToo: true))
            {
                removed++;
                removedBytes += entry.Length;
            }
            else
            {
                kept.Add(entry);
            }
        }
        var total = kept.Sum(e => e.Length);
        foreach (var entry in kept.ToList())
        {
            if (maxBytes is not { } limit || total <= limit) break;
            if (!TryRemove(entry.FullName, entryToo: true)) continue;
            removed++;
            removedBytes += entry.Length;
            total -= entry.Length;
            kept.Remove(entry);
        }
        return new CacheTrimResult(removed, removedBytes, kept.Count, total);
    }

    /// <summary>Records a use: trimming removes the least recently used entries first.</summary>
    private static void MarkUsed(string path)
    {
        try { File.SetLastAccessTimeUtc(path, DateTime.UtcNow); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* a read-only cache still serves */ }
    }

    private static DateTime LastUsed(FileInfo entry) => entry.LastAccessTimeUtc > entry.LastWriteTimeUtc ? entry.LastAccessTimeUtc : entry.LastWriteTimeUtc;

    private static CacheEntry? TryOpen(string path, Action<string> log)
    {
        if (!File.Exists(path)) return null;
        try
        {
            ArtifactManifest manifest;
            using (var artifact = ModelArtifact.Open(path)) manifest = artifact.Manifest;
            MarkUsed(path);
            return new CacheEntry(path, manifest, Hit: true);
        }
        catch (ModelSdkException e) when (e.Code == DiagnosticCodes.ArtifactCorrupt || e.Code == DiagnosticCodes.ArtifactVersionUnsupported
                                          || e.Code == DiagnosticCodes.ArtifactNotFound)
        {
            // Only a damaged disk or a foreign hand can do this (entries appear by rename): compile it again.
            log($"discarding a cache entry that does not validate ({e.Detail})");
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return null;
        }
        catch (FileNotFoundException)
        {
            return null; // trimmed between the check and the read
        }
    }

    private static string LockPath(string entryPath) => entryPath + ".lock";

    private static FileStream AcquireLock(string path, Action<string> log, CancellationToken cancellationToken)
    {
        var waiting = false;
        while (true)
        {
            var stream = TryLock(path);
            if (stream is not null) return stream;
            if (!waiting) log("waiting for another build that is compiling the same model into the shared cache");
            waiting = true;
            cancellationToken.WaitHandle.WaitOne(LockPoll);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static FileStream? TryLock(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null; // held by another build
        }
    }

    /// <summary>Deletes an entry (or a temporary file of its key) only while holding the key's lock, so a running compile keeps its files.</summary>
    private static bool TryRemove(string entryPath, bool entryToo, string? temporary = null)
    {
        var lockPath = LockPath(entryPath);
        try
        {
            using var held = TryLock(lockPath);
            if (held is null) return false;
            if (temporary is not null) File.Delete(temporary);
            if (!entryToo) return true;
            File.Delete(entryPath);
            // The lock file goes with its entry (where the OS lets a held file be deleted); an orphan is a few bytes.
            try { File.Delete(lockPath); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>".{key}.msdk.{guid}.tmp" (ArtifactWriter) and ".{key}.msdk.{guid}.eval.msdk" (evaluation) → key.</summary>
    private static string? KeyOfTemporary(string name)
    {
        var end = name.IndexOf(ArtifactFormat.FileExtension + ".", StringComparison.Ordinal);
        if (end <= 1) return null;
        var key = name[1..end];
        return key.All(char.IsAsciiHexDigitLower) ? key : null;
    }
}

/// <summary>A validated cache entry; <see cref="Hit"/> is false when this call compiled it.</summary>
public sealed record CacheEntry(string Path, ArtifactManifest Manifest, bool Hit)
{
    /// <summary>Copies the artifact to <paramref name="target"/> through a flushed temporary file and a rename (never half a file there).</summary>
    public void CopyTo(string target)
    {
        var temp = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var from = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            using (var to = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                from.CopyTo(to, 1 << 20);
                to.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

public sealed record CacheTrimResult(int RemovedEntries, long RemovedBytes, int KeptEntries, long KeptBytes);
