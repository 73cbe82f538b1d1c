using System.Runtime.InteropServices;
using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Threading;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// The per-caller state of a generation: KV cache, activations and logits, in one 64-byte aligned native block
/// allocated up front, plus the preallocated parallel-region jobs — a forward step allocates nothing.
/// <para>
/// One step of the forward pass (llama2.c's <c>forward</c>) runs five parallel regions per layer: QKV projections with
/// RoPE (k and v written straight into the cache), attention (heads split across threads), <c>wo</c> with the residual add,
/// <c>w1</c>/<c>w3</c> with SwiGLU, <c>w2</c> with the residual add; then one for the classifier, whose rows are split too.
/// The two RMSNorms run on the calling thread between regions (a few hundred floats).
/// </para>
/// </summary>
internal sealed unsafe class LlamaSession : IDisposable
{
    private readonly LlamaTransformer _model;
    private readonly LlamaConfig _c;
    private readonly VectorWidth _width;
    private readonly QkvJob _qkv;
    private readonly AttentionJob _attention;
    private readonly MatVecJob _matVec;
    private readonly FeedForwardUpJob _ffnUp;
    private byte* _block;

    internal float* X, Xb, Xb2, Q, Hb, Hb2, Att, Logits, KeyCache, ValueCache;

    public LlamaSession(LlamaTransformer model)
    {
        _model = model;
        _c = model.Config;
        _width = model.Width;
        long dim = _c.Dim, hidden = _c.HiddenDim, seq = _c.ContextLength, kv = _c.KvDim;
        long[] sizes = [dim, dim, dim, dim, hidden, hidden, _c.Heads * seq, _c.VocabSize, _c.Layers * seq * kv, _c.Layers * seq * kv];
        long total = 0;
        foreach (var size in sizes) total += Align(size * sizeof(float));
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)total, 64);
        NativeMemory.Clear(_block, (nuint)total);
        var at = _block;
        float* Next(long floats)
        {
            var p = (float*)at;
            at += Align(floats * sizeof(float));
            return p;
        }
        X = Next(sizes[0]); Xb = Next(sizes[1]); Xb2 = Next(sizes[2]); Q = Next(sizes[3]);
        Hb = Next(sizes[4]); Hb2 = Next(sizes[5]); Att = Next(sizes[6]); Logits = Next(sizes[7]);
        KeyCache = Next(sizes[8]); ValueCache = Next(sizes[9]);
        BytesAllocated = total;

        _qkv = new QkvJob(this);
        _attention = new AttentionJob(this);
        _matVec = new MatVecJob(_width);
        _ffnUp = new FeedForwardUpJob(this);
    }

    ~LlamaSession() => Free();

    public LlamaConfig Config => _c;

    public long BytesAllocated { get; }

    /// <summary>The logits of the last step that computed them (valid until the next step).</summary>
    public Span<float> LogitsSpan => new(Logits, _c.VocabSize);

    private static long Align(long bytes) => (bytes + 63) & ~63L;

    /// <summary>
    /// Runs token <paramref name="token"/> at position <paramref name="pos"/> through the model, appending its keys and
    /// values to the cache. Computes the logits only when asked (prompt tokens other than the last never need them).
    /// </summary>
    public void Forward(int token, int pos, bool computeLogits)
    {
        if ((uint)token >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids are 0..{_c.VocabSize - 1}.");
        if ((uint)pos >= (uint)_c.ContextLength) throw new ArgumentOutOfRangeException(nameof(pos), pos, $"Positions are 0..{_c.ContextLength - 1}.");
        ObjectDisposedException.ThrowIf(_block is null, this);

        var team = _model.Team;
        if (team is null)
        {
            Step(token, pos, computeLogits, null);
            return;
        }
        using (team.Enter()) Step(token, pos, computeLogits, team);
    }

    private static void Run(TeamJob job, WorkerTeam? team)
    {
        if (team is null) job.ExecuteAll();
        else team.Run(job);
    }

    private void Step(int token, int pos, bool computeLogits, WorkerTeam? team)
    {
        var w = _model.Weights;
        int dim = _c.Dim, hidden = _c.HiddenDim;
        Buffer.MemoryCopy(w.TokenEmbedding + (long)token * dim, X, dim * sizeof(float), dim * sizeof(float));

        _qkv.Pos = pos;
        _attention.Pos = pos;
        for (var l = 0; l < _c.Layers; l++)
        {
            ref var layer = ref w.Layers[l];

            RmsNorm.Apply(Xb, X, layer.AttentionNorm, dim, _c.NormEps, _width);
            _qkv.Layer = l;
            Run(_qkv, team);
            _attention.Layer = l;
            Run(_attention, team);
            _matVec.Set(layer.Wo, Xb2, X, dim, dim, accumulate: true);
            Run(_matVec, team);

            RmsNorm.Apply(Xb, X, layer.FfnNorm, dim, _c.NormEps, _width);
            _ffnUp.Layer = l;
            Run(_ffnUp, team);
            _matVec.Set(layer.W2, Hb, X, dim, hidden, accumulate: true);
            Run(_matVec, team);
        }

        if (!computeLogits) return;
        RmsNorm.Apply(X, X, w.FinalNorm, dim, _c.NormEps, _width);
        _matVec.Set(w.Classifier, X, Logits, _c.VocabSize, dim, accumulate: false);
        Run(_matVec, team);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_block is null) return;
        NativeMemory.AlignedFree(_block);
        _block = null;
        X = Xb = Xb2 = Q = Hb = Hb2 = Att = Logits = KeyCache = ValueCache = null;
    }

    /// <summary>y = W·x (or y += W·x) with rows split across the team.</summary>
    private sealed class MatVecJob(VectorWidth width) : TeamJob
    {
        private float* _w, _x, _y;
        private int _rows, _cols;
        private bool _accumulate;

        public void Set(float* w, float* x, float* y, int rows, int cols, bool accumulate)
        {
            _w = w; _x = x; _y = y; _rows = rows; _cols = cols; _accumulate = accumulate;
        }

        public override int ChunkCount(int participants) => Chunks(_rows, 16, participants);

        public override void Execute(int chunk, int chunks)
        {
            var (start, end) = Split(_rows, chunk, chunks, 16);
            if (start < end) MatVec.Rows(_w, _x, _y, _cols, start, end, _accumulate, width);
        }
    }

    /// <summary>q = wq·xb, k = wk·xb, v = wv·xb over the concatenated rows [q; k; v], k and v written into the cache at pos, RoPE on q and k.</summary>
    private sealed class QkvJob(LlamaSession s) : TeamJob
    {
        public int Layer, Pos;

        public override int ChunkCount(int participants) => Chunks(s._c.Dim + 2 * s._c.KvDim, 4, participants);

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            int dim = c.Dim, kv = c.KvDim;
            ref var layer = ref s._model.Weights.Layers[Layer];
            var cacheRow = ((long)Layer * c.ContextLength + Pos) * kv;
            var k = s.KeyCache + cacheRow;
            var v = s.ValueCache + cacheRow;
            var rope = s._model.Rope;
            var cos = rope.Cos(Pos);
            var sin = rope.SinSigned(Pos);

            // The grain of 4 rows keeps RoPE pairs (i, i+1) inside one chunk (dim and kv are even).
            var (start, end) = Split(dim + 2 * kv, chunk, chunks, 4);
            var qEnd = Math.Min(end, dim);
            if (start < qEnd)
            {
                MatVec.Rows(layer.Wq, s.Xb, s.Q, dim, start, qEnd, false, s._width);
                Rope.Apply(s.Q, start, qEnd, c.HeadSize, cos, sin, s._width);
            }
            int kStart = Math.Max(start, dim) - dim, kEnd = Math.Min(end, dim + kv) - dim;
            if (kStart < kEnd)
            {
                MatVec.Rows(layer.Wk, s.Xb, k, dim, kStart, kEnd, false, s._width);
                Rope.Apply(k, kStart, kEnd, c.HeadSize, cos, sin, s._width);
            }
            int vStart = Math.Max(start, dim + kv) - dim - kv, vEnd = end - dim - kv;
            if (vStart < vEnd) MatVec.Rows(layer.Wv, s.Xb, v, dim, vStart, vEnd, false, s._width);
        }
    }

    /// <summary>Causal attention of each query head over the cache, heads split across the team; output into xb2.</summary>
    private sealed class AttentionJob(LlamaSession s) : TeamJob
    {
        public int Layer, Pos;

        public override int ChunkCount(int participants) => participants == 1 ? 1 : s._c.Heads;

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            int hs = c.HeadSize, kv = c.KvDim, group = c.Heads / c.KvHeads;
            var layerOffset = (long)Layer * c.ContextLength * kv;
            var (start, end) = Split(c.Heads, chunk, chunks, 1);
            for (var h = start; h < end; h++)
            {
                var kvHead = h / group;
                Attention.Head(s.Q + h * hs, s.KeyCache + layerOffset + kvHead * hs, s.ValueCache + layerOffset + kvHead * hs,
                    kv, hs, Pos + 1, s.Att + (long)h * c.ContextLength, s.Xb2 + h * hs, s._width);
            }
        }
    }

    /// <summary>hb = silu(w1·xb) ⊙ (w3·xb), hidden rows split across the team.</summary>
    private sealed class FeedForwardUpJob(LlamaSession s) : TeamJob
    {
        public int Layer;

        public override int ChunkCount(int participants) => Chunks(s._c.HiddenDim, 16, participants);

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            ref var layer = ref s._model.Weights.Layers[Layer];
            var (start, end) = Split(c.HiddenDim, chunk, chunks, 16);
            if (start >= end) return;
            MatVec.Rows(layer.W1, s.Xb, s.Hb, c.Dim, start, end, false, s._width);
            MatVec.Rows(layer.W3, s.Xb, s.Hb2, c.Dim, start, end, false, s._width);
            SwiGlu.Apply(s.Hb, s.Hb2, start, end, s._width);
        }
    }
}
