using System.Runtime.InteropServices;
using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Threading;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// The per-caller state of a generation: KV cache, activations and logits, in one 64-byte aligned native block
/// allocated up front, plus the preallocated parallel-region jobs — a forward step allocates nothing.
/// <para>
/// One step of the forward pass (llama2.c's <c>forward</c>) runs five parallel regions per layer: QKV projections with
/// RoPE (k and v stored straight into the cache), attention (heads split across threads), <c>wo</c> with the residual add,
/// <c>w1</c>/<c>w3</c> with SwiGLU, <c>w2</c> with the residual add; then one for the classifier, whose rows are split too.
/// The two RMSNorms run on the calling thread between regions (a few hundred floats).
/// </para>
/// <para>
/// A step takes up to <see cref="MaxBatch"/> consecutive tokens (a prompt): every region then handles all of them, the
/// matrices through <see cref="MatMat"/>, which reads each weight row once per batch instead of once per token. Decode
/// is the batch of one. Per token the arithmetic is the same in both forms, so the results are bit-identical.
/// </para>
/// <para>
/// A low-rank matrix (<see cref="LayerMatrix"/>, W = B·A) costs one more region before the one that reads it: the
/// matrices of a layer that share an input compute their A·x together (<see cref="LowRankInnerJob"/>) into per-matrix
/// buffers, and the fused region then multiplies by B instead of W.
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
    private readonly LowRankInnerJob _inner;
    private byte* _block;

    /// <summary>Prompt tokens per batched step.</summary>
    public const int MaxBatch = 32;

    /// <summary>
    /// Activations ([batch][...], one row per token of a step) and caches. <see cref="KeyCache"/> is
    /// [layer][kv head][head dim][position] (positions contiguous, what <see cref="Attention"/> reads);
    /// <see cref="ValueCache"/> is [layer][position][kv dim] as in llama2.c.
    /// </summary>
    internal float* X, Xb, Xb2, Q, K, Hb, Hb2, Att, Logits, KeyCache, ValueCache;

    /// <summary>A·x of each low-rank matrix kind (wq, wk, wv, wo, w1, w2, w3), [batch][rank]; null for kinds no layer factors.</summary>
    internal float* InnerQ, InnerK, InnerV, InnerO, Inner1, Inner2, Inner3;

    public LlamaSession(LlamaTransformer model)
    {
        _model = model;
        _c = model.Config;
        _width = model.Width;
        long dim = _c.Dim, hidden = _c.HiddenDim, seq = _c.ContextLength, kv = _c.KvDim, b = MaxBatch;
        var ranks = MaxRanks(model.Weights);
        long[] sizes = [b * dim, b * dim, b * dim, b * dim, b * kv, b * hidden, b * hidden, b * _c.Heads * seq, _c.VocabSize, _c.Layers * seq * kv, _c.Layers * seq * kv,
            .. ranks.Select(r => b * r)];
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
        X = Next(sizes[0]); Xb = Next(sizes[1]); Xb2 = Next(sizes[2]); Q = Next(sizes[3]); K = Next(sizes[4]);
        Hb = Next(sizes[5]); Hb2 = Next(sizes[6]); Att = Next(sizes[7]); Logits = Next(sizes[8]);
        KeyCache = Next(sizes[9]); ValueCache = Next(sizes[10]);
        float* NextInner(int kind) => ranks[kind] == 0 ? null : Next(sizes[11 + kind]);
        InnerQ = NextInner(0); InnerK = NextInner(1); InnerV = NextInner(2); InnerO = NextInner(3);
        Inner1 = NextInner(4); Inner2 = NextInner(5); Inner3 = NextInner(6);
        BytesAllocated = total;

        _qkv = new QkvJob(this);
        _attention = new AttentionJob(this);
        _matVec = new MatVecJob(_width);
        _ffnUp = new FeedForwardUpJob(this);
        _inner = new LowRankInnerJob(_width);
    }

    /// <summary>The largest rank of each matrix kind over the layers (0 where no layer factors it).</summary>
    private static int[] MaxRanks(LlamaWeights weights)
    {
        var ranks = new int[7];
        foreach (var layer in weights.Layers)
        {
            var matrices = layer.Matrices;
            for (var kind = 0; kind < ranks.Length; kind++) ranks[kind] = Math.Max(ranks[kind], matrices[kind].Rank);
        }
        return ranks;
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
    public void Forward(int token, int pos, bool computeLogits) => Forward([token], pos, computeLogits);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <paramref name="startPos"/>, <paramref name="startPos"/> + 1, ... through the
    /// model in batches of <see cref="MaxBatch"/>, appending their keys and values to the cache; computes the logits of
    /// the last one only when asked.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, int startPos, bool computeLogits)
    {
        if (tokens.IsEmpty) throw new ArgumentException("No tokens.", nameof(tokens));
        foreach (var token in tokens)
            if ((uint)token >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token ids are 0..{_c.VocabSize - 1}.");
        if (startPos < 0 || startPos > _c.ContextLength - tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(startPos), startPos, $"Positions are 0..{_c.ContextLength - 1}.");
        ObjectDisposedException.ThrowIf(_block is null, this);

        for (var at = 0; at < tokens.Length; at += MaxBatch)
        {
            var batch = tokens.Slice(at, Math.Min(MaxBatch, tokens.Length - at));
            var last = at + batch.Length == tokens.Length;
            var team = _model.Team;
            if (team is null)
            {
                Step(batch, startPos + at, computeLogits && last, null);
                continue;
            }
            using (team.Enter()) Step(batch, startPos + at, computeLogits && last, team);
        }
    }

    private static void Run(TeamJob job, WorkerTeam? team)
    {
        if (team is null) job.ExecuteAll();
        else team.Run(job);
    }

    private void Step(ReadOnlySpan<int> tokens, int pos, bool computeLogits, WorkerTeam? team)
    {
        var w = _model.Weights;
        int dim = _c.Dim, hidden = _c.HiddenDim, n = tokens.Length;
        var embedding = w.EmbeddingMatrix; // quantized embeddings are dequantized row by row on lookup
        for (var t = 0; t < n; t++) Linear.Row(embedding, tokens[t], X + (long)t * dim);

        _qkv.Pos = _attention.Pos = pos;
        _qkv.Tokens = _attention.Tokens = _ffnUp.Tokens = n;
        for (var l = 0; l < _c.Layers; l++)
        {
            ref var layer = ref w.Layers[l];

            for (var t = 0; t < n; t++) RmsNorm.Apply(Xb + (long)t * dim, X + (long)t * dim, layer.AttentionNorm, dim, _c.NormEps, _width);
            RunInner(team, Xb, dim, n, layer.Wq, InnerQ, layer.Wk, InnerK, layer.Wv, InnerV);
            _qkv.Layer = l;
            Run(_qkv, team);
            _attention.Layer = l;
            Run(_attention, team);
            RunInner(team, Xb2, dim, n, layer.Wo, InnerO);
            _matVec.Set(layer.Wo, Xb2, dim, InnerO, X, dim, n, accumulate: true);
            Run(_matVec, team);

            for (var t = 0; t < n; t++) RmsNorm.Apply(Xb + (long)t * dim, X + (long)t * dim, layer.FfnNorm, dim, _c.NormEps, _width);
            RunInner(team, Xb, dim, n, layer.W1, Inner1, layer.W3, Inner3);
            _ffnUp.Layer = l;
            Run(_ffnUp, team);
            RunInner(team, Hb, hidden, n, layer.W2, Inner2);
            _matVec.Set(layer.W2, Hb, hidden, Inner2, X, dim, n, accumulate: true);
            Run(_matVec, team);
        }

        if (!computeLogits) return;
        var x = X + (long)(n - 1) * dim;
        RmsNorm.Apply(x, x, w.FinalNorm, dim, _c.NormEps, _width);
        _matVec.Set(LayerMatrix.Dense(w.ClassifierMatrix), x, dim, null, Logits, _c.VocabSize, 1, accumulate: false);
        Run(_matVec, team);
    }

    /// <summary>One region computing A·x for the factored ones among the matrices given (all reading <paramref name="x"/>); none when no matrix is factored.</summary>
    private void RunInner(WorkerTeam? team, float* x, int ldx, int tokens,
        in LayerMatrix w1, float* inner1, in LayerMatrix w2 = default, float* inner2 = null, in LayerMatrix w3 = default, float* inner3 = null)
    {
        _inner.Begin(x, ldx, tokens);
        _inner.Add(w1, inner1);
        _inner.Add(w2, inner2);
        _inner.Add(w3, inner3);
        if (_inner.Count > 0) Run(_inner, team);
    }

    /// <summary>
    /// Rows [rowStart, rowEnd) of y = W·x for every token: straight from x for a dense matrix, from <paramref name="inner"/>
    /// (A·x, [tokens][rank], computed by the region before) through B for a factored one.
    /// </summary>
    private static void Rows(in LayerMatrix w, float* x, int ldx, float* inner, float* y, int ldy, int rowStart, int rowEnd, int tokens, bool accumulate, VectorWidth width)
    {
        if (w.IsFactored) Linear.Rows(w.Outer, inner, w.Rank, y, ldy, rowStart, rowEnd, tokens, accumulate, width);
        else Linear.Rows(w.Outer, x, ldx, y, ldy, rowStart, rowEnd, tokens, accumulate, width);
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
        X = Xb = Xb2 = Q = K = Hb = Hb2 = Att = Logits = KeyCache = ValueCache = null;
        InnerQ = InnerK = InnerV = InnerO = Inner1 = Inner2 = Inner3 = null;
    }

    /// <summary>y[t] = W·x[t] (or y[t] += W·x[t]) for every token of the step, rows split across the team.</summary>
    private sealed class MatVecJob(VectorWidth width) : TeamJob
    {
        private LayerMatrix _w;
        private float* _x, _inner, _y;
        private int _ldx, _ldy, _tokens;
        private bool _accumulate;

        public void Set(in LayerMatrix w, float* x, int ldx, float* inner, float* y, int ldy, int tokens, bool accumulate)
        {
            _w = w; _x = x; _ldx = ldx; _inner = inner; _y = y; _ldy = ldy; _tokens = tokens; _accumulate = accumulate;
        }

        public override int ChunkCount(int participants) => Chunks(_w.Rows, 16, participants);

        public override void Execute(int chunk, int chunks)
        {
            var (start, end) = Split(_w.Rows, chunk, chunks, 16);
            if (start < end) Rows(_w, _x, _ldx, _inner, _y, _ldy, start, end, _tokens, _accumulate, width);
        }
    }

    /// <summary>
    /// u = A·x for up to three factored matrices reading the same input x, over their concatenated rank rows split across
    /// the team; each u is [tokens][its rank].
    /// </summary>
    private sealed class LowRankInnerJob(VectorWidth width) : TeamJob
    {
        private readonly WeightMatrix[] _a = new WeightMatrix[3];
        private readonly nint[] _u = new nint[3];
        private float* _x;
        private int _ldx, _tokens, _rows;

        public int Count { get; private set; }

        public void Begin(float* x, int ldx, int tokens)
        {
            _x = x; _ldx = ldx; _tokens = tokens; _rows = 0; Count = 0;
        }

        /// <summary>Adds <paramref name="w"/>'s A when it is factored (a dense matrix needs no inner product).</summary>
        public void Add(in LayerMatrix w, float* u)
        {
            if (!w.IsFactored) return;
            var a = w.Inner;
            _a[Count] = a;
            _u[Count++] = (nint)u;
            _rows += a.Rows;
        }

        public override int ChunkCount(int participants) => Chunks(_rows, 16, participants);

        public override void Execute(int chunk, int chunks)
        {
            var (start, end) = Split(_rows, chunk, chunks, 16);
            for (int i = 0, first = 0; i < Count && first < end; first += _a[i++].Rows)
            {
                int from = Math.Max(start - first, 0), to = Math.Min(end - first, _a[i].Rows);
                if (from < to) Linear.Rows(_a[i], _x, _ldx, (float*)_u[i], _a[i].Rows, from, to, _tokens, false, width);
            }
        }
    }

    /// <summary>q = wq·xb, k = wk·xb, v = wv·xb over the concatenated rows [q; k; v], RoPE on q and k, k and v stored into the cache at each token's position.</summary>
    private sealed class QkvJob(LlamaSession s) : TeamJob
    {
        public int Layer, Pos, Tokens;

        public override int ChunkCount(int participants) => Chunks(s._c.Dim + 2 * s._c.KvDim, 4, participants);

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            int dim = c.Dim, kv = c.KvDim, seq = c.ContextLength, hs = c.HeadSize, n = Tokens;
            ref var layer = ref s._model.Weights.Layers[Layer];
            var values = s.ValueCache + ((long)Layer * seq + Pos) * kv; // rows Pos, Pos + 1, ... are consecutive
            var keysT = s.KeyCache + (long)Layer * kv * seq; // [kv head][head dim][position]: row r of k at r·seq + pos
            var rope = s._model.Rope;

            // The grain of 4 rows keeps RoPE pairs (i, i+1) inside one chunk (dim and kv are even).
            var (start, end) = Split(dim + 2 * kv, chunk, chunks, 4);
            var qEnd = Math.Min(end, dim);
            if (start < qEnd)
            {
                Rows(layer.Wq, s.Xb, dim, s.InnerQ, s.Q, dim, start, qEnd, n, false, s._width);
                for (var t = 0; t < n; t++)
                    Rope.Apply(s.Q + (long)t * dim, start, qEnd, hs, rope.Cos(Pos + t), rope.SinSigned(Pos + t), s._width);
            }
            int kStart = Math.Max(start, dim) - dim, kEnd = Math.Min(end, dim + kv) - dim;
            if (kStart < kEnd)
            {
                Rows(layer.Wk, s.Xb, dim, s.InnerK, s.K, kv, kStart, kEnd, n, false, s._width);
                for (var t = 0; t < n; t++)
                {
                    var k = s.K + (long)t * kv;
                    Rope.Apply(k, kStart, kEnd, hs, rope.Cos(Pos + t), rope.SinSigned(Pos + t), s._width);
                    for (var r = kStart; r < kEnd; r++) keysT[(long)r * seq + Pos + t] = k[r];
                }
            }
            int vStart = Math.Max(start, dim + kv) - dim - kv, vEnd = end - dim - kv;
            if (vStart < vEnd) Rows(layer.Wv, s.Xb, dim, s.InnerV, values, kv, vStart, vEnd, n, false, s._width);
        }
    }

    /// <summary>Causal attention of each (token, query head) over the cache, split across the team; output into xb2.</summary>
    private sealed class AttentionJob(LlamaSession s) : TeamJob
    {
        public int Layer, Pos, Tokens;

        public override int ChunkCount(int participants) => Chunks(Tokens * s._c.Heads, 1, participants, perParticipant: 8);

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            int hs = c.HeadSize, kv = c.KvDim, dim = c.Dim, heads = c.Heads, group = c.Heads / c.KvHeads, seq = c.ContextLength;
            var layerOffset = (long)Layer * seq * kv;
            var (start, end) = Split(Tokens * heads, chunk, chunks, 1);
            for (var item = start; item < end; item++)
            {
                int t = item / heads, h = item % heads, kvHead = h / group;
                Attention.Head(s.Q + (long)t * dim + h * hs, s.KeyCache + layerOffset + (long)kvHead * hs * seq, seq,
                    s.ValueCache + layerOffset + kvHead * hs, kv, hs, Pos + t + 1, s.Att + (long)item * seq, s.Xb2 + (long)t * dim + h * hs,
                    s._width);
            }
        }
    }

    /// <summary>hb = silu(w1·xb) ⊙ (w3·xb) for every token of the step, hidden rows split across the team.</summary>
    private sealed class FeedForwardUpJob(LlamaSession s) : TeamJob
    {
        public int Layer, Tokens;

        public override int ChunkCount(int participants) => Chunks(s._c.HiddenDim, 16, participants);

        public override void Execute(int chunk, int chunks)
        {
            var c = s._c;
            int dim = c.Dim, hidden = c.HiddenDim, n = Tokens;
            ref var layer = ref s._model.Weights.Layers[Layer];
            var (start, end) = Split(hidden, chunk, chunks, 16);
            if (start >= end) return;
            Rows(layer.W1, s.Xb, dim, s.Inner1, s.Hb, hidden, start, end, n, false, s._width);
            Rows(layer.W3, s.Xb, dim, s.Inner3, s.Hb2, hidden, start, end, n, false, s._width);
            for (var t = 0; t < n; t++) SwiGlu.Apply(s.Hb + (long)t * hidden, s.Hb2 + (long)t * hidden, start, end, s._width);
        }
    }
}
