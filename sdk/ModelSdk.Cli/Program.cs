using System.CommandLine;
using ModelSdk.Cli.Commands;

var root = new RootCommand("modelsdk: compile and evaluate language models (the same passes and metrics as the ModelSdk build).")
{
    CompileCommand.Create(),
    CompressCommand.Create(),
    EvalCommand.Create(),
    CacheCommand.Create(),
};
return root.Parse(args).Invoke();
