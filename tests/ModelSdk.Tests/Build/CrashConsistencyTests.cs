using System.Diagnostics;
using ModelSdk.Artifacts;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Tests.Import;
using ModelSdk.Tests.Quantization;
using Xunit.Abstractions;

namespace ModelSdk.Tests.Build;

/// <summary>
/// The shared cache against real processes: <c>modelsdk compress --cache-dir</c> is killed (SIGKILL, as a killed build)
/// at random moments of its compression pass and of writing its artifact; the cache must never hold a partial entry and
/// the next run must succeed. Two processes compiling the same model at once do the work once.
/// A small synthetic checkpoint keeps each run short; what is tested is the cache's protocol, not the model.
/// </summary>
public sealed class CrashConsistencyTests(ITestOutputHelper output)
{
    private const int Kills = 20;

    [Fact]
    public void KilledCompiles_NeverLeaveAPartialEntry_AndTheNextRunSucceeds()
    {
        var folder = CheckpointFiles.TempFolder();
        var checkpoint = QuantizationPipelineTests.SyntheticCheckpoint(folder, dim: 64, hidden: 192, layers: 2);
        var cacheFolder = Path.Combine(folder, "cache");
        var cache = new ModelCache(cacheFolder);
        var target = Path.Combine(folder, "out.msdk");

        // Undisturbed runs (the second one warm) measure how long the pass and the writing take on this machine, now.
        Run calibration = null!;
        for (var i = 0; i < 2; i++)
        {
            calibration = Compress(checkpoint, cacheFolder, target, kill: null);
            Assert.True(calibration.ExitCode == 0, calibration.Log);
            cache.Trim(maxBytes: 0, maxAge: null);
        }
        var pass = calibration.PassDone - calibration.PassStarted;
        var writing = calibration.Exited - calibration.PassDone;

        var random = new Random(Environment.TickCount);
        var landed = new Dictionary<string, int> { ["pass"] = 0, ["writing"] = 0, ["finished first"] = 0 };
        for (var i = 0; i < Kills; i++)
        {
            // A random moment of the pass (after its "running" line) or of the writing (after its "done" line), in turn.
            var kill = i % 2 == 0 ? (After: "running", Delay: pass * random.NextDouble()) : (After: "done", Delay: writing * 0.5 * random.NextDouble());
            var killed = Compress(checkpoint, cacheFolder, target, kill);
            landed[killed.Phase]++;

            foreach (var entry in Directory.EnumerateFiles(cacheFolder, "*.msdk", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')))
                using (ModelArtifact.Open(entry)) { } // throws on a partial or damaged entry

            var next = Compress(checkpoint, cacheFolder, target, kill: null);
            Assert.True(next.ExitCode == 0, $"the run after kill {i} ({killed.Phase}) failed: {next.Log}");
            using (var artifact = ModelArtifact.Open(target)) Assert.Equal("q8_g32", artifact.Manifest.WeightFormat);

            // Empty the cache again (trimming also removes what the killed run left) so that the next kill hits a compile.
            cache.Trim(maxBytes: 0, maxAge: null);
            Assert.DoesNotContain(Directory.EnumerateFiles(cacheFolder, "*", SearchOption.AllDirectories), f => !f.EndsWith(".lock", StringComparison.Ordinal));
        }
        output.WriteLine($"pass {pass.TotalMilliseconds:0} ms, writing {writing.TotalMilliseconds:0} ms; {Kills} kills: " +
            string.Join(", ", landed.Select(p => $"{p.Value} during {p.Key}")) + "; every next run succeeded");
        Assert.True(landed["pass"] + landed["writing"] >= Kills / 2, $"too few kills landed while the process worked: {string.Join(", ", landed)}");
    }

    [Fact]
    public void TwoProcesses_CompilingTheSameModelAtOnce_DoTheWorkOnce()
    {
        var folder = CheckpointFiles.TempFolder();
        var checkpoint = QuantizationPipelineTests.SyntheticCheckpoint(folder, dim: 64, hidden: 192, layers: 2);
        var cacheFolder = Path.Combine(folder, "cache");
        var runs = new[] { "a.msdk", "b.msdk" }.AsParallel().WithDegreeOfParallelism(2)
            .Select(name => Compress(checkpoint, cacheFolder, Path.Combine(folder, name), kill: null)).ToArray();
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Log));
        Assert.Equal(1, runs.Count(r => r.Log.Contains("rtn-int8: running")));
        Assert.Equal(1, runs.Count(r => r.Log.Contains("cache hit")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "a.msdk")), File.ReadAllBytes(Path.Combine(folder, "b.msdk")));
    }

    private sealed record Run(int? ExitCode, string Log, string Phase, TimeSpan PassStarted, TimeSpan PassDone, TimeSpan Exited);

    /// <summary>Runs the CLI; with <paramref name="kill"/>, kills it that long after it writes the line "rtn-int8: {After}".</summary>
    private static Run Compress(string checkpoint, string cache, string target, (string After, TimeSpan Delay)? kill)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "modelsdk.dll"), "compress", checkpoint, "--tokenizer", CheckpointFiles.Tokenizer,
                     "--quantize", "rtn-int8", "--cache-dir", cache, "-o", target,
                 })
            start.ArgumentList.Add(argument);

        var clock = Stopwatch.StartNew();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        TimeSpan? passStarted = null, passDone = null;
        using var passRunning = new ManualResetEventSlim();
        using var passFinished = new ManualResetEventSlim();
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            log.Enqueue(e.Data);
            if (e.Data.StartsWith("rtn-int8: running", StringComparison.Ordinal)) { passStarted = clock.Elapsed; passRunning.Set(); }
            if (e.Data.StartsWith("rtn-int8: done", StringComparison.Ordinal)) { passDone = clock.Elapsed; passFinished.Set(); }
        };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var phase = "finished first";
        if (kill is { } k && (k.After == "running" ? passRunning : passFinished).Wait(TimeSpan.FromSeconds(60)))
        {
            Thread.Sleep(k.Delay);
            if (!process.HasExited)
            {
                phase = passDone is null ? "pass" : "writing";
                process.Kill(entireProcessTree: true);
            }
        }
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the CLI did not finish");
        process.WaitForExit(); // drains the output
        var exited = clock.Elapsed;
        return new Run(kill is null || phase == "finished first" ? process.ExitCode : null, string.Join('\n', log), phase,
            passStarted ?? TimeSpan.Zero, passDone ?? TimeSpan.Zero, exited);
    }
}
