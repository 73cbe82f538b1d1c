using System.Globalization;
using ModelSdk.Compression.Passes.Structural;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Runtime;

namespace ModelSdk.Benchmarks;

/// <summary>
/// Low-rank storage (<c>--low-rank RATIO</c>): stories15M with w1, w2, w3 factored at that LowRankRatio, stored as the
/// factors (LowRankStorage="factored") and as their dense products ("dense", the same model), against each other:
/// artifact size, weight bytes per token and greedy decode tok/s (<see cref="Stories.Decode"/>) at 1 and N threads.
/// Rounds alternate between the two so load from other processes hits both alike; best and median of each.
/// </summary>
internal static class LowRankBenchmarks
{
    public static int Run(double ratio, int[] threadCounts, int rounds, string repo)
    {
        var models = Path.GetFullPath(Path.Combine(repo, "..", "shared", "models"));
        var temp = Directory.CreateTempSubdirectory("modelsdk-lowrank-bench-");
        try
        {
            string Compile(bool factored)
            {
                var path = Path.Combine(temp.FullName, factored ? "factored.msdk" : "dense.msdk");
                var request = new CompileRequest(Path.Combine(models, "stories15M.bin"), Path.Combine(models, "tokenizer.model"), "0.1.0")
                {
                    Passes = [new LowRankPass(ratio, null, ["w1", "w2", "w3"], factored: factored)],
                };
                ModelCompiler.Compile(ModelCompiler.Plan(request), path);
                return path;
            }
            var dense = Compile(factored: false);
            var factored = Compile(factored: true);
            Console.WriteLine($"stories15M, LowRankRatio={ratio.ToString(CultureInfo.InvariantCulture)} on w1, w2, w3; {rounds} alternating rounds of 256-position greedy decode");
            Console.WriteLine();
            Console.WriteLine("| storage | threads | artifact MB | weight MB per token | best tok/s | median tok/s |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var threads in threadCounts)
            {
                using var denseModel = LanguageModel.Load(dense, new LoadOptions { Threads = threads, Device = ModelDevice.Cpu });
                using var factoredModel = LanguageModel.Load(factored, new LoadOptions { Threads = threads, Device = ModelDevice.Cpu });
                Stories.Decode(denseModel);
                Stories.Decode(factoredModel);
                var denseRuns = new List<double>();
                var factoredRuns = new List<double>();
                for (var round = 0; round < rounds; round++)
                {
                    denseRuns.Add(Stories.Decode(denseModel));
                    factoredRuns.Add(Stories.Decode(factoredModel));
                }
                foreach (var (name, path, model, runs) in new[] { ("dense product", dense, denseModel, denseRuns), ("factors", factored, factoredModel, factoredRuns) })
                    Console.WriteLine($"| {name} | {threads} | {new FileInfo(path).Length / 1e6:F1} | {model.Transformer.Weights.BytesPerToken / 1e6:F1} | " +
                        $"{runs.Max():F0} | {runs.Order().ElementAt(runs.Count / 2):F0} |");
                Console.WriteLine($"| factors / dense product | {threads} | {(double)new FileInfo(factored).Length / new FileInfo(dense).Length:F2}x | " +
                    $"{(double)factoredModel.Transformer.Weights.BytesPerToken / denseModel.Transformer.Weights.BytesPerToken:F2}x | " +
                    $"{factoredRuns.Max() / denseRuns.Max():F2}x | {factoredRuns.Order().ElementAt(rounds / 2) / denseRuns.Order().ElementAt(rounds / 2):F2}x |");
            }
            return 0;
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
