using ModelSdk.Runtime.Backend;
using ModelSdk.Runtime.Sampling;

namespace ModelSdk.Runtime.Generation;

/// <summary>
/// llama2.c's generation loop as a pull-based state machine over one session: the prompt is run through the model
/// in batches (logits only for its last token), then each step samples a token and, if another one is wanted, feeds it back.
/// Ends at BOS or EOS (not returned), after <c>maxTokens</c>, or when the context is full: the last position's logits
/// still yield a token, so at most <c>ContextLength − promptLength + 1</c> tokens come out.
/// </summary>
internal sealed class TokenGenerator
{
    private readonly IInferenceSession _session;
    private readonly int[] _prompt;
    private readonly Sampler _sampler;
    private readonly int _maxTokens;
    private readonly int _bos, _eos;
    private int _pos;
    private int _last;
    private bool _done;

    public TokenGenerator(IInferenceSession session, int[] prompt, Sampler sampler, int maxTokens, int bosId, int eosId)
    {
        _session = session;
        _prompt = prompt;
        _sampler = sampler;
        _maxTokens = maxTokens;
        _bos = bosId;
        _eos = eosId;
        _last = prompt[^1];
    }

    public int Generated { get; private set; }

    /// <summary>The token the next one follows (the last prompt token at first).</summary>
    public int Previous { get; private set; }

    /// <summary>Why generation ended, once <see cref="TryNext"/> returned false.</summary>
    public StopReason Reason { get; private set; }

    public bool TryNext(CancellationToken ct, out int token)
    {
        token = -1;
        if (_done) return false;
        if (Generated >= _maxTokens) return Finish(StopReason.MaxTokens);

        if (_pos == 0)
        {
            // The prompt in batches (each weight row read once per batch); logits only after its last token.
            _session.Prefill(_prompt, 0, computeLogits: true, ct);
            _pos = _prompt.Length;
        }
        else
        {
            if (_pos >= _session.Config.ContextLength) return Finish(StopReason.ContextFull);
            ct.ThrowIfCancellationRequested();
            _session.Forward(_last, _pos, computeLogits: true);
            _pos++;
        }

        var next = _session.Sample(_sampler);
        if (next == _bos || next == _eos) return Finish(StopReason.EndOfSequence);
        Previous = _last;
        _last = next;
        Generated++;
        token = next;
        return true;
    }

    private bool Finish(StopReason reason)
    {
        _done = true;
        Reason = reason;
        return false;
    }
}

internal enum StopReason
{
    None,
    EndOfSequence,
    MaxTokens,
    ContextFull,
    StopSequence,
}
