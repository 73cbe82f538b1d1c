using System.CommandLine;
using System.Diagnostics;
using ModelSdk.Compression.Pipeline;

namespace ModelSdk.Cli.Commands;

/// <summary><c>modelsdk compile CHECKPOINT --tokenizer FILE -o OUT.msdk</c>: what the build does for a Model item.</summary>
internal static class CompileCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A llama2.c checkpoint." };
        var tokenizer = new Option<FileInfo>("--tokenizer") { Description = "SentencePiece tokenizer.model of the checkpoint.", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The .msdk artifact to write.", Required = true };
        var command = new Command("compile", "Compile a checkpoint into a .msdk artifact.") { checkpoint, tokenizer, output };
        command.SetAction(parse => ModelInputs.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var plan = ModelCompiler.Plan(new CompileRequest(parse.GetValue(checkpoint)!.FullName, parse.GetValue(tokenizer)!.FullName, ModelInputs.SdkVersion));
            var target = parse.GetValue(output)!.FullName;
            ModelCompiler.Compile(plan, target);
            Console.Error.WriteLine($"compiled {plan.Manifest.Name} -> {target} in {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        }));
        return command;
    }
}
