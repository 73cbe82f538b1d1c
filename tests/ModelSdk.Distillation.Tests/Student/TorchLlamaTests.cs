using ModelSdk.Compression.Import;
using ModelSdk.Compression.Passes;
using ModelSdk.Distillation.Student;
using ModelSdk.Distillation.Tests.Support;
using ModelSdk.Runtime;
using TorchSharp;

namespace ModelSdk.Distillation.Tests.Student;

/// <summary>The TorchSharp graph is the runtime's model: same logits on the real stories15M.</summary>
public sealed class TorchLlamaTests
{
    [Fact]
    public void Logits_match_the_runtime_fp32_logits_on_stories15M()
    {
        torch.set_num_threads(1);
        using var runtime = LanguageModel.Load(Models.Compile("fp32.msdk"), new LoadOptions { Threads = 1 });
        var tokens = runtime.Tokenize("Once upon a time, there was a little girl named Lily.");
        Assert.True(tokens.Length >= 12);

        using var imported = Llama2CheckpointImporter.Import(Models.Checkpoint);
        using var model = WorkingModel.FromImported(imported);
        using var llama = new TorchLlama(model, trainable: false);
        using var ids = torch.tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]);
        using var logits = llama.Forward(ids);
        var values = logits.data<float>().ToArray();

        var vocab = model.Config.VocabSize;
        double worst = 0;
        for (var t = 0; t < tokens.Length; t++)
        {
            var expected = runtime.GetNextTokenLogits(tokens.AsSpan(0, t + 1));
            for (var i = 0; i < vocab; i++)
                worst = Math.Max(worst, Math.Abs(values[t * vocab + i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
        }
        Assert.True(worst < 1e-4, $"largest relative difference {worst:E2}");
    }
}
