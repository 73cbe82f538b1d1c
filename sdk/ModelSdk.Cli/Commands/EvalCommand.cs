using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelSdk.Runtime.Evaluation;

namespace ModelSdk.Cli.Commands;

/// <summary>
/// <c>modelsdk eval MODEL --text FILE [--tokenizer FILE] [--reference MODEL]</c>: perplexity on a text, and against a
/// reference model KL divergence and top-1 agreement, printed as one JSON object.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "A .msdk artifact or a llama2.c checkpoint." };
        var text = new Option<FileInfo>("--text") { Description = "Evaluation text; documents separated by <|endoftext|> lines.", Required = true };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "SentencePiece tokenizer.model (needed for checkpoints)." };
        var reference = new Option<FileInfo?>("--reference") { Description = "Reference model (artifact or checkpoint) for KL divergence and top-1 agreement." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Score at most this many tokens." };
        var threads = new Option<int?>("--threads") { Description = "Threads per forward pass (default: all cores)." };
        var command = new Command("eval", "Perplexity, KL divergence and top-1 agreement of a model on a text.")
        {
            model, text, tokenizer, reference, maxTokens, threads,
        };
        command.SetAction(parse => ModelInputs.Run(() =>
        {
            var tokenizerPath = parse.GetValue(tokenizer)?.FullName;
            var threadCount = parse.GetValue(threads);
            using var evaluated = ModelInputs.Load(parse.GetValue(model)!.FullName, tokenizerPath, threadCount);
            using var referenceModel = parse.GetValue(reference) is { } r ? ModelInputs.Load(r.FullName, tokenizerPath, threadCount) : null;
            var clock = Stopwatch.StartNew();
            var result = TextEvaluator.Evaluate(evaluated, File.ReadAllText(parse.GetValue(text)!.FullName), referenceModel,
                parse.GetValue(maxTokens) ?? int.MaxValue);
            var json = new JsonObject
            {
                ["perplexity"] = result.Perplexity,
                ["klDivergence"] = result.KlDivergence,
                ["top1Agreement"] = result.Top1Agreement,
                ["tokens"] = result.Tokens,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
            };
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }
}
