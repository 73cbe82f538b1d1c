using System.Globalization;
using ModelSdk;

namespace TinyStories;

/// <summary>The sample's options, as llama2.c's run.c names them. Defaults give run.c's greedy story.</summary>
internal static class CommandLine
{
    public const string Usage = "usage: TinyStories [--prompt TEXT] [--max-tokens N] [--temperature T] [--top-p P] [--seed S]";

    public static bool TryParse(string[] args, out string prompt, out GenerationOptions options, out string? error)
    {
        prompt = "Once upon a time";
        options = new GenerationOptions { MaxTokens = 256, Temperature = 0f, TopP = 0.9f };
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length) { error = $"missing value after {args[i]}"; return false; }
            var value = args[++i];
            var ok = args[i - 1] switch
            {
                "--prompt" => Set(value, out prompt),
                "--max-tokens" => TryInt(value, out var n) && Apply(options.MaxTokens = n),
                "--temperature" => TryFloat(value, out var t) && Apply(options.Temperature = t),
                "--top-p" => TryFloat(value, out var p) && Apply(options.TopP = p),
                "--seed" => ulong.TryParse(value, CultureInfo.InvariantCulture, out var s) && Apply(options.Seed = s),
                _ => false,
            };
            if (!ok) { error = $"invalid option {args[i - 1]} {value}"; return false; }
        }
        return true;
    }

    private static bool Set(string value, out string target) { target = value; return true; }

    private static bool Apply<T>(T _) => true;

    private static bool TryInt(string s, out int value) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    private static bool TryFloat(string s, out float value) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
