using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Training;

/// <summary>
/// Training batches from a token stream (the training text's sequences one after another, each starting with BOS, as
/// llama2.c's pretokenized data): windows of <c>length + 1</c> tokens at uniformly drawn offsets — the first
/// <c>length</c> are the input, the last <c>length</c> the next-token targets. Deterministic given the seed.
/// </summary>
public sealed class TokenWindows
{
    private readonly int[] _stream;
    private readonly Random _random;

    public TokenWindows(IEnumerable<int[]> sequences, int length, int seed)
    {
        _stream = sequences.SelectMany(s => s).ToArray();
        if (_stream.Length < 2) throw new ArgumentException("The training text has fewer than two tokens.", nameof(sequences));
        Length = Math.Min(length, _stream.Length - 1);
        _random = new Random(seed);
    }

    /// <summary>Tokens per window (the requested length, or less when the text is shorter).</summary>
    public int Length { get; }

    public int TokenCount => _stream.Length;

    /// <summary>The stream's tokens (for hashing what was trained on).</summary>
    public ReadOnlySpan<int> Stream => _stream;

    /// <summary>The next batch: inputs and targets, both [batch, Length] int64.</summary>
    public (Tensor Inputs, Tensor Targets) Next(int batch)
    {
        var inputs = new long[batch * Length];
        var targets = new long[batch * Length];
        for (var b = 0; b < batch; b++)
        {
            var start = _random.Next(_stream.Length - Length);
            for (var t = 0; t < Length; t++)
            {
                inputs[b * Length + t] = _stream[start + t];
                targets[b * Length + t] = _stream[start + t + 1];
            }
        }
        return (tensor(inputs, [batch, Length]), tensor(targets, [batch, Length]));
    }
}
