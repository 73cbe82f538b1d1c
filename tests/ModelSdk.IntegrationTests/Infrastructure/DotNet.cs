using System.Diagnostics;
using System.Text;

namespace ModelSdk.IntegrationTests.Infrastructure;

/// <summary>Runs the dotnet CLI (or a built app) and captures its output.</summary>
public static class DotNet
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
    {
        public string Output => StdOut + StdErr;

        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0}s\n{StdOut}\n{StdErr}";
    }

    public static Result Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        // Never share build nodes or servers between scenarios: a node would keep an old task assembly loaded.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} ran for over 10 minutes.");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString(), clock.Elapsed);
    }
}
