using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

internal struct AttentionArgs
{
    /// <summary>[tokens][heads · headSize] queries (RoPE applied).</summary>
    public ArrayView<float> Q;
    /// <summary>[layer][position][kvDim]</summary>
    public ArrayView<float> KeyCache, ValueCache;
    public long LayerOffset;
    public ArrayView<int> State;
    public int Heads, KvDim, HeadSize, HeadsPerKv;
    /// <summary>Positions per split; splits = ceil(contextLength / chunk).</summary>
    public int Chunk, Splits;
    /// <summary>[tokens][heads][splits][headSize] un-normalized outputs and [tokens][heads][splits][max, sum].</summary>
    public ArrayView<float> PartialOut, PartialStats;
}

/// <summary>
/// Attention over the KV cache with split-K (flash-decoding). Block (head h, split s, token t) handles keys
/// [s·chunk, min((s+1)·chunk, pos+1)) of query token t at position pos = State[Pos] + t (causal: a prompt's token sees
/// itself and what precedes it, the cache included). It writes its softmax statistics (max m, Σexp(score − m)) and
/// Σexp(score − m)·v un-normalized; <see cref="Combine"/> merges the splits with the usual rescaling, so the softmax is
/// exact and stable however the keys are split. Splits past pos write m = −∞, l = 0.
/// Dynamic shared memory: headSize + chunk + max(groupSize, headSize) floats.
/// </summary>
internal static class AttentionKernel
{
    public static void Partial(AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var scratch = SharedMemory.Allocate<float>(32);
        int h = Grid.IdxX, s = Grid.IdxY, t = Grid.IdxZ;
        var hs = a.HeadSize;
        var tid = Group.IdxX;
        var threads = Group.DimX;
        var pos = a.State[StepState.Pos] + t;
        var start = s * a.Chunk;
        var end = start + a.Chunk < pos + 1 ? start + a.Chunk : pos + 1;
        var part = ((long)t * a.Heads + h) * a.Splits + s;

        if (start >= end)
        {
            if (tid == 0)
            {
                a.PartialStats[part * 2] = float.NegativeInfinity;
                a.PartialStats[part * 2 + 1] = 0f;
            }
            for (var d = tid; d < hs; d += threads) a.PartialOut[part * hs + d] = 0f;
            return;
        }

        var q = shared.SubView(0, hs);
        var scores = shared.SubView(hs, a.Chunk);
        var reduce = shared.SubView(hs + a.Chunk, threads > hs ? threads : hs);
        var qOffset = (long)t * a.Heads * hs + (long)h * hs;
        for (var d = tid; d < hs; d += threads) q[d] = a.Q[qOffset + d];
        Group.Barrier();

        var head = a.LayerOffset + (long)(h / a.HeadsPerKv) * hs;
        var sqrtHs = MathF.Sqrt(hs);
        var localMax = float.NegativeInfinity;
        for (var j = start + tid; j < end; j += threads)
        {
            var k = head + (long)j * a.KvDim;
            var score = 0f;
            for (var d = 0; d < hs; d++) score += q[d] * a.KeyCache[k + d];
            score /= sqrtHs;
            scores[j - start] = score;
            localMax = score > localMax ? score : localMax;
        }
        var max = Reductions.BlockMax(localMax, scratch);
        var localSum = 0f;
        for (var j = start + tid; j < end; j += threads)
        {
            var p = MathF.Exp(scores[j - start] - max);
            scores[j - start] = p;
            localSum += p;
        }
        var sum = Reductions.BlockSum(localSum, scratch); // its barriers publish the probabilities

        // Σ p_j v_j: thread (g, d) sums positions g, g + G, ... of dimension d; then the G partial sums are added.
        var groups = threads >= hs ? threads / hs : 1;
        for (var w = tid; w < hs * groups; w += threads)
        {
            var d = w % hs;
            var g = w / hs;
            var acc = 0f;
            for (var j = start + g; j < end; j += groups) acc += scores[j - start] * a.ValueCache[head + (long)j * a.KvDim + d];
            reduce[w] = acc;
        }
        Group.Barrier();
        for (var d = tid; d < hs; d += threads)
        {
            var o = 0f;
            for (var g = 0; g < groups; g++) o += reduce[g * hs + d];
            a.PartialOut[part * hs + d] = o;
        }
        if (tid == 0)
        {
            a.PartialStats[part * 2] = max;
            a.PartialStats[part * 2 + 1] = sum;
        }
    }

    /// <summary>
    /// Merges the splits of block (head, token): M = max m_s, out = Σ e^(m_s − M)·o_s / Σ e^(m_s − M)·l_s, written to
    /// output[token][head · headSize + d].
    /// </summary>
    public static void Combine(AttentionArgs a, ArrayView<float> output)
    {
        int h = Grid.IdxX, t = Grid.IdxY;
        var hs = a.HeadSize;
        var part0 = ((long)t * a.Heads + h) * a.Splits;
        var max = float.NegativeInfinity;
        for (var s = 0; s < a.Splits; s++)
        {
            var m = a.PartialStats[(part0 + s) * 2];
            max = m > max ? m : max;
        }
        var sum = 0f;
        for (var s = 0; s < a.Splits; s++)
        {
            var m = a.PartialStats[(part0 + s) * 2];
            if (m != float.NegativeInfinity) sum += MathF.Exp(m - max) * a.PartialStats[(part0 + s) * 2 + 1];
        }
        var outOffset = (long)t * a.Heads * hs + (long)h * hs;
        for (var d = Group.IdxX; d < hs; d += Group.DimX)
        {
            var o = 0f;
            for (var s = 0; s < a.Splits; s++)
            {
                var m = a.PartialStats[(part0 + s) * 2];
                if (m != float.NegativeInfinity) o += MathF.Exp(m - max) * a.PartialOut[(part0 + s) * hs + d];
            }
            output[outOffset + d] = o / sum;
        }
    }
}
