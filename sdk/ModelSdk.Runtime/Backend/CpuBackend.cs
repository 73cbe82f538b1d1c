using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Llama;
using ModelSdk.Runtime.Sampling;

namespace ModelSdk.Runtime.Backend;

/// <summary>The CPU backend: <see cref="LlamaTransformer"/> and its <see cref="LlamaSession"/>s behind the backend interface.</summary>
internal sealed class CpuBackend(LlamaTransformer transformer) : IInferenceBackend
{
    public LlamaTransformer Transformer { get; } = transformer;

    public ModelDevice Device => ModelDevice.Cpu;

    public int Threads => Transformer.Threads;

    public VectorWidth Width => Transformer.Width;

    public IInferenceSession CreateSession() => new CpuSession(Transformer.CreateSession());

    public void Dispose() => Transformer.Dispose();

    private sealed class CpuSession(LlamaSession session) : IInferenceSession
    {
        public LlamaConfig Config => session.Config;

        public void Forward(int token, int pos, bool computeLogits) => session.Forward(token, pos, computeLogits);

        public void Prefill(ReadOnlySpan<int> tokens, int startPos, bool computeLogits, CancellationToken ct)
        {
            // In batches (each weight row read once per batch); logits only after the last token.
            for (var at = 0; at < tokens.Length; at += LlamaSession.MaxBatch)
            {
                ct.ThrowIfCancellationRequested();
                var count = Math.Min(LlamaSession.MaxBatch, tokens.Length - at);
                session.Forward(tokens.Slice(at, count), startPos + at, computeLogits && at + count == tokens.Length);
            }
        }

        public Span<float> Logits() => session.LogitsSpan;

        public int Sample(Sampler sampler) => sampler.Sample(session.LogitsSpan);

        public void Dispose() => session.Dispose();
    }
}
