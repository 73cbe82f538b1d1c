using ModelSdk.Artifacts;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Build;

/// <summary>The shared cache on its own: entries are validated on every read, one caller compiles a key at a time, trimming is LRU.</summary>
public sealed class ModelCacheTests
{
    private static CompilePlan Plan() => ModelCompiler.Plan(new CompileRequest(CheckpointFiles.Checkpoint, CheckpointFiles.Tokenizer, "1.0.0-test"));

    [Theory]
    [InlineData("flip a data byte")]
    [InlineData("truncate")]
    [InlineData("empty")]
    public void ADamagedEntry_IsNeverServed_ItIsCompiledAgain(string damage)
    {
        var cache = new ModelCache(CheckpointFiles.TempFolder());
        var plan = Plan();
        var compiles = 0;
        void Compile(string path) { compiles++; ModelCompiler.Compile(plan, path); }
        var entry = cache.GetOrAdd(plan, Compile);
        Assert.False(entry.Hit);
        Assert.True(cache.GetOrAdd(plan, Compile).Hit);
        Assert.Equal(1, compiles);

        var length = new FileInfo(entry.Path).Length;
        using (var file = new FileStream(entry.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            switch (damage)
            {
                case "flip a data byte":
                    file.Position = length - 1000;
                    var b = file.ReadByte();
                    file.Position = length - 1000;
                    file.WriteByte((byte)(b ^ 0x40));
                    break;
                case "truncate": file.SetLength(length / 2); break;
                default: file.SetLength(0); break;
            }
        }
        var messages = new List<string>();
        var again = cache.GetOrAdd(plan, Compile, messages.Add);
        Assert.False(again.Hit);
        Assert.Equal(2, compiles);
        Assert.Contains(messages, m => m.Contains("does not validate"));
        using var artifact = ModelArtifact.Open(again.Path);
        Assert.Equal(length, new FileInfo(again.Path).Length);
    }

    [Fact]
    public void ParallelCallers_ForOneKey_CompileOnce_AndAllGetTheEntry()
    {
        var cache = new ModelCache(CheckpointFiles.TempFolder());
        var plan = Plan();
        var compiles = 0;
        var waited = 0;
        var entries = Enumerable.Range(0, 4).AsParallel().WithDegreeOfParallelism(4).Select(_ => cache.GetOrAdd(plan, path =>
        {
            Interlocked.Increment(ref compiles);
            // Holds the lock until the other callers have found it held (bounded: on 2 busy cores they may start late).
            SpinWait.SpinUntil(() => Volatile.Read(ref waited) >= 3, TimeSpan.FromSeconds(20));
            ModelCompiler.Compile(plan, path);
        }, m => { if (m.Contains("waiting")) Interlocked.Increment(ref waited); })).ToArray();
        Assert.Equal(1, compiles);
        Assert.Single(entries, e => !e.Hit);
        Assert.All(entries, e => Assert.Equal(entries[0].Path, e.Path));
        Assert.True(waited > 0, "no caller found the key's lock held");
    }

    [Fact]
    public void Trim_RemovesEntriesUnusedForTooLong_ThenTheLeastRecentlyUsed_AndKeepsWhatABuildHolds()
    {
        var cache = new ModelCache(CheckpointFiles.TempFolder());
        var now = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        string Entry(char c, int kilobytes, int daysUnused)
        {
            var path = cache.EntryPath(new string(c, 32));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, new byte[kilobytes * 1024]);
            File.SetLastWriteTimeUtc(path, now.AddDays(-40));
            File.SetLastAccessTimeUtc(path, now.AddDays(-daysUnused));
            return path;
        }
        var ancient = Entry('a', 10, daysUnused: 35);
        var old = Entry('b', 10, daysUnused: 20);
        var recent = Entry('c', 10, daysUnused: 1);
        var held = Entry('d', 10, daysUnused: 60);
        var orphanTemp = Path.Combine(Path.GetDirectoryName(recent)!, $".{new string('c', 32)}.msdk.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(orphanTemp, new byte[100]);

        using (new FileStream(held + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var byAge = cache.Trim(maxBytes: null, maxAge: TimeSpan.FromDays(30), now);
            Assert.Equal(1, byAge.RemovedEntries);
            Assert.False(File.Exists(ancient));
            Assert.True(File.Exists(held), "an entry whose lock a build holds is kept");
            Assert.False(File.Exists(orphanTemp), "a temporary file nobody writes is removed");

            var bySize = cache.Trim(maxBytes: 25 * 1024, maxAge: null, now);
            Assert.Equal(1, bySize.RemovedEntries);
            Assert.False(File.Exists(old));
            Assert.True(File.Exists(recent));
            Assert.Equal(20 * 1024, bySize.KeptBytes);
        }
        Assert.Equal(1, cache.Trim(maxBytes: 10 * 1024, maxAge: null, now).RemovedEntries);
        Assert.False(File.Exists(held));
        Assert.True(File.Exists(recent));
    }

    [Theory]
    [InlineData("10GB", 10L << 30)]
    [InlineData("1.5 MB", 3L << 19)]
    [InlineData("4096", 4096L)]
    [InlineData("", null)]
    public void Sizes_Parse(string text, long? bytes) => Assert.Equal(bytes, CacheLimits.ParseSize(text));

    [Fact]
    public void Ages_Parse() => Assert.Equal(TimeSpan.FromDays(30), CacheLimits.ParseAge("30d"));

    [Theory]
    [InlineData("ten-gigs", true)]
    [InlineData("-1GB", true)]
    [InlineData("30 days", false)]
    [InlineData("12", false)]
    public void BadLimits_AreMsdk1030(string text, bool size)
    {
        var e = Assert.Throws<ModelSdkException>(() => { if (size) CacheLimits.ParseSize(text); else CacheLimits.ParseAge(text); });
        Assert.Equal(DiagnosticCodes.InvalidCacheLimit, e.Code);
    }

    [Fact]
    public void EntryPaths_TakeOnlyFullHexKeys() => Assert.Throws<ArgumentException>(() => new ModelCache("c").EntryPath("../../etc/passwd0000000000000000000000"));
}
