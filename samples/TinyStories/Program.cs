// TinyStories: writes a story with stories15M, compiled into this app by ModelSdk (see TinyStories.csproj).
// Usage: TinyStories [--prompt TEXT] [--max-tokens N] [--temperature T] [--top-p P] [--seed S]
using System.Diagnostics;
using System.Globalization;
using TinyStories;

if (!CommandLine.TryParse(args, out var prompt, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

using var model = Stories15M.Load();
Console.Write(prompt);
var tokens = 0;
var clock = Stopwatch.StartNew();
try
{
    await foreach (var piece in model.GenerateStreamingAsync(prompt, options, cancel.Token))
    {
        Console.Write(piece);
        tokens++;
    }
}
catch (OperationCanceledException)
{
    // Ctrl+C: keep what was written, report the speed so far.
}
Console.WriteLine();
Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tokens/s: {tokens / clock.Elapsed.TotalSeconds:0.0}"));
return 0;
