using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Distillation.Passes;
using ModelSdk.Runtime.Evaluation;

namespace ModelSdk.Cli.Commands;

/// <summary>
/// <c>modelsdk compress CHECKPOINT [--tokenizer FILE] [--prune NAME [--sparsity 0.5|2:4]] [--quantize NAME [--group-size N] [--symmetric BOOL]] [--calibration FILE]
/// [--evaluation FILE [--max-perplexity-increase 3%] [--max-kl-divergence X]] [--cache-dir DIR] -o OUT.msdk</c>: what the build does for a
/// Model item with the same metadata (every pass option of the registry is an option here, in kebab case:
/// GroupSize → --group-size). With --evaluation it prints the metrics as one JSON object.
/// </summary>
internal static class CompressCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A llama2.c checkpoint." };
        var tokenizer = new Option<FileInfo?>("--tokenizer")
        {
            Description = "SentencePiece tokenizer.model of the checkpoint (default: tokenizer.model next to the checkpoint).",
        };
        var prune = new Option<string?>("--prune") { Description = $"The pruning, run before --quantize: {string.Join(", ", PassRegistry.PruningNames)}." };
        var quantize = new Option<string?>("--quantize") { Description = $"The quantization: {string.Join(", ", PassRegistry.Names)}." };
        var calibration = new Option<FileInfo?>("--calibration") { Description = "Calibration text (CalibrationData), for calibrated passes." };
        var evaluation = new Option<FileInfo?>("--evaluation") { Description = "Evaluation text (EvaluationData): measure the result against the uncompressed model." };
        var maxIncrease = new Option<string?>("--max-perplexity-increase") { Description = "Gate (MaxPerplexityIncrease), e.g. 3%." };
        var maxKl = new Option<string?>("--max-kl-divergence") { Description = "Gate (MaxKLDivergence), in nats." };
        var threads = new Option<int?>("--threads") { Description = "Threads for the evaluation (default: all cores)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The .msdk artifact to write.", Required = true };
        var cache = CacheCommand.DirectoryOption("Compile through this shared cache folder (the build's ModelSdkCacheDirectory).");
        var command = new Command("compress", "Compress a checkpoint into a .msdk artifact (the passes of the build's Prune and Quantize metadata).")
        {
            checkpoint, tokenizer, prune, quantize, calibration, evaluation, maxIncrease, maxKl, threads, output, cache,
        };
        var passOptions = new List<(string Name, Option<string?> Option)>();
        foreach (var name in PassRegistry.OptionNames)
        {
            var option = new Option<string?>("--" + KebabCase(name)) { Description = $"Pass option {name} (see the README's Model item table)." };
            passOptions.Add((name, option));
            command.Options.Add(option);
        }

        // Distillation runs after the compression, on the calibration text; its options are --distill-steps, --distill-seed, ...
        var distill = new Option<bool>("--distill") { Description = "Then recover quality by logit distillation against the uncompressed model on the --calibration text." };
        command.Options.Add(distill);
        var distillOptions = new List<(string Name, Option<string?> Option)>();
        foreach (var name in DistillPass.Descriptor.OptionNames)
        {
            var option = new Option<string?>("--distill-" + KebabCase(name)) { Description = $"distill option {name} (see the README's distillation section)." };
            distillOptions.Add((name, option));
            command.Options.Add(option);
        }

        command.SetAction(parse => ModelInputs.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var checkpointPath = parse.GetValue(checkpoint)!.FullName;
            var tokenizerPath = parse.GetValue(tokenizer)?.FullName ?? Path.Combine(Path.GetDirectoryName(checkpointPath)!, "tokenizer.model");
            if (!File.Exists(tokenizerPath))
                throw new ModelSdkException(DiagnosticCodes.TokenizerMissing,
                    "No tokenizer: pass --tokenizer, or put the checkpoint's tokenizer.model next to it (the artifact embeds it).", tokenizerPath);
            var options = new PassOptions(passOptions.Select(o => new KeyValuePair<string, string>(o.Name, parse.GetValue(o.Option) ?? "")));
            var passes = PassRegistry.CreatePipeline(parse.GetValue(prune), parse.GetValue(quantize), options);
            var recovery = new PassOptions(distillOptions.Select(o => new KeyValuePair<string, string>(o.Name, parse.GetValue(o.Option) ?? "")));
            if (parse.GetValue(distill)) passes = [.. passes, DistillPass.Descriptor.Create(recovery)];
            else if (recovery.Names.FirstOrDefault() is { } stray)
                throw new ModelSdkException(DiagnosticCodes.InvalidCompressionOption, $"--distill-{KebabCase(stray)} is set but --distill is not: add --distill, or remove it.");
            var gates = QualityGates.Parse(parse.GetValue(maxIncrease), parse.GetValue(maxKl));
            var evaluationPath = parse.GetValue(evaluation)?.FullName;
            if (gates.Any && evaluationPath is null)
                throw new ModelSdkException(DiagnosticCodes.EvaluationDataInvalid, "A quality gate needs --evaluation: the gate is measured on an evaluation text.");

            var plan = ModelCompiler.Plan(new CompileRequest(checkpointPath, tokenizerPath, ModelInputs.SdkVersion)
            {
                Passes = passes,
                CalibrationPath = parse.GetValue(calibration)?.FullName,
                EvaluationPath = evaluationPath,
            });
            var target = parse.GetValue(output)!.FullName;
            var threadCount = parse.GetValue(threads);
            var manifest = ModelInputs.CompileTo(plan, target, new CompileOptions
            {
                Log = message => Console.Error.WriteLine(message),
                Evaluate = (artifact, reference, text) => ArtifactComparison.Compare(artifact, reference, text, threadCount),
            }, parse.GetValue(cache)?.FullName);
            Console.Error.WriteLine($"compressed {plan.Manifest.Name} -> {target} ({manifest.WeightFormat}, {new FileInfo(target).Length / 1e6:0.0} MB) " +
                $"in {clock.Elapsed.TotalSeconds:0.0} s");
            if (manifest.Metrics is { } m)
            {
                Console.Error.WriteLine(QualityGates.Describe(m));
                var json = new JsonObject
                {
                    ["weightFormat"] = manifest.WeightFormat,
                    ["perplexity"] = m.Perplexity,
                    ["referencePerplexity"] = m.ReferencePerplexity,
                    ["perplexityIncrease"] = m.PerplexityIncrease,
                    ["klDivergence"] = m.KlDivergence,
                    ["top1Agreement"] = m.Top1Agreement,
                    ["tokens"] = m.Tokens,
                    ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                };
                Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            try
            {
                gates.Check(manifest.Metrics, $"{plan.Manifest.Name} ({manifest.WeightFormat})");
            }
            catch (ModelSdkException)
            {
                File.Delete(target); // a model that fails its gate is not left behind
                throw;
            }
            return 0;
        }));
        return command;
    }

    /// <summary>GroupSize → group-size, MaxKLDivergence → max-kl-divergence.</summary>
    internal static string KebabCase(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var boundary = char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])));
            if (boundary) text.Append('-');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
