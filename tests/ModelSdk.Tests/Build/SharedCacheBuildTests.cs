using System.Text.RegularExpressions;
using ModelSdk.Artifacts;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Build;

/// <summary>
/// The build task with the per-user cache, on the real stories15M: projects share compiled models, touching an input
/// costs a hash, changing one item's options recompresses only that item, items compile side by side with progress,
/// cancellation leaves the cache consistent, and a hostile class name writes nothing anywhere.
/// </summary>
public sealed class SharedCacheBuildTests
{
    private const string Compiling = "ModelSdk: compiling";
    private const string CacheHit = "shared cache hit";

    [Fact]
    public void TwoProjects_ReferencingTheSameModelAndPasses_CompressOnce()
    {
        var root = CheckpointFiles.TempFolder();
        var cache = Path.Combine(root, "cache");
        var first = new TaskProject(root, "First", cache);
        var second = new TaskProject(root, "Second", cache);

        var (firstOk, firstLog) = first.Compile(first.Model("Stories", ("Quantize", "rtn-int8")));
        Assert.True(firstOk, firstLog.Log);
        Assert.Contains(Compiling, firstLog.Log);

        var (secondOk, secondLog) = second.Compile(second.Model("Stories", ("Quantize", "rtn-int8")));
        Assert.True(secondOk, secondLog.Log);
        Assert.DoesNotContain(Compiling, secondLog.Log);
        Assert.Contains(CacheHit, secondLog.Log);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first.Intermediate, "Stories.msdk")), File.ReadAllBytes(Path.Combine(second.Intermediate, "Stories.msdk")));
        Assert.True(File.Exists(Path.Combine(second.Intermediate, "Stories.msdk.json")));
        Assert.Single(Directory.EnumerateFiles(cache, "*.msdk", SearchOption.AllDirectories));
    }

    [Fact]
    public void TouchingDoesNotRecompress_AndChangingOneItemsOptions_RecompressesOnlyThatItem()
    {
        var root = CheckpointFiles.TempFolder();
        var project = new TaskProject(root, "App", Path.Combine(root, "cache"));
        var checkpoint = Path.Combine(project.Directory, "models", "stories15M.bin");
        var items = () => new[]
        {
            project.Model("Coarse", ("Quantize", "rtn-int4"), ("GroupSize", "64")),
            project.Model("Fine", ("Quantize", "rtn-int4"), ("GroupSize", "32")),
        };

        var (ok, log) = project.Compile(items());
        Assert.True(ok, log.Log);
        // Both items compiled, side by side, each reporting its pass's progress in percent.
        Assert.Equal(2, Regex.Count(log.Log, Compiling));
        Assert.Contains("ModelSdk: Coarse: rtn-int4: 50%", log.Log);
        Assert.Contains("ModelSdk: Fine: rtn-int4: 50%", log.Log);
        var fineArtifact = Path.Combine(project.Intermediate, "Fine.msdk");
        var fineWrittenAt = File.GetLastWriteTimeUtc(fineArtifact);

        File.SetLastWriteTimeUtc(checkpoint, DateTime.UtcNow.AddMinutes(1));
        (ok, log) = project.Compile(items());
        Assert.True(ok, log.Log);
        Assert.DoesNotContain(Compiling, log.Log);
        Assert.DoesNotContain(CacheHit, log.Log);

        var changed = items();
        changed[0].SetMetadata("GroupSize", "128");
        (ok, log) = project.Compile(changed);
        Assert.True(ok, log.Log);
        Assert.Equal(1, Regex.Count(log.Log, Compiling));
        Assert.Contains("-> Coarse.msdk", log.Log);
        Assert.Equal(fineWrittenAt, File.GetLastWriteTimeUtc(fineArtifact));
        using var coarse = ModelArtifact.Open(Path.Combine(project.Intermediate, "Coarse.msdk"));
        Assert.Equal("q4_g128_sym", coarse.Manifest.WeightFormat);
    }

    [Fact]
    public void Cancel_StopsAPassPromptly_AndLeavesNothingHalfWrittenInTheCache()
    {
        var root = CheckpointFiles.TempFolder();
        var cache = Path.Combine(root, "cache");
        var project = new TaskProject(root, "App", cache);
        var engine = new RecordingBuildEngine();
        var task = project.Task(engine, project.Model("Stories", ("Quantize", "rtn-int4")));
        var run = new Thread(() => task.Execute());
        run.Start();
        while (!engine.Messages.Any(m => m.Contains("rtn-int4: 10%")) && run.IsAlive) Thread.Sleep(1);
        task.Cancel();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(run.Join(TimeSpan.FromSeconds(10)), "the task did not stop");
        Assert.Contains(engine.Messages, m => m.Contains("was canceled"));
        Assert.DoesNotContain(engine.Messages, m => m.Contains("rtn-int4: done"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed}");
        // No entry, no temporary file: only the key's lock file is left.
        Assert.All(Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories), f => Assert.EndsWith(".lock", f));
        Assert.False(File.Exists(Path.Combine(project.Intermediate, "Stories.msdk")));

        var (ok, log) = project.Compile(project.Model("Stories", ("Quantize", "rtn-int4")));
        Assert.True(ok, log.Log);
        Assert.Contains(Compiling, log.Log);
    }

    [Theory]
    [InlineData("../../../Escaped")]
    [InlineData("/tmp/Escaped")]
    [InlineData("..")]
    public void AHostileClassName_IsRejected_AndNothingIsWrittenOutsideObj(string className)
    {
        var root = CheckpointFiles.TempFolder();
        var project = new TaskProject(root, "App", Path.Combine(root, "cache"));
        var (ok, log) = project.Compile(project.Model(className));
        Assert.False(ok);
        Assert.Equal("MSDK1007", Assert.Single(log.Errors).Code);
        var written = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Path.Combine(project.Directory, "models"), StringComparison.Ordinal) && f != project.ProjectFile);
        Assert.Empty(written);
        Assert.False(File.Exists("/tmp/Escaped.msdk"));
    }

    [Fact]
    public void MetadataPaths_AreResolvedAgainstTheProject_NotTheCurrentFolder_AndARelativeCacheToo()
    {
        var root = CheckpointFiles.TempFolder();
        var project = new TaskProject(root, "App", "model-cache");
        var (ok, log) = project.Compile(project.Model("Stories", ("Namespace", "Demo")));
        Assert.True(ok, log.Log);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(project.Directory, "model-cache"), "*.msdk", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "model-cache")));
    }
}
