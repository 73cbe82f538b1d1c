using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// Weights in native memory (one huge-page backed block, every tensor 64-byte aligned), owned by this object: synthetic models for tests and benchmarks
/// (e.g. TinyLlama-1.1B's shape with random values, 4.4 GB that never touch the disk).
/// </summary>
internal sealed unsafe class NativeLlamaWeights : LlamaWeights
{
    private byte* _block;
    private long _used;
    private long _size;

    /// <summary>Allocates every tensor and lets <paramref name="fill"/> write it: (tensor name, destination, fan-in of its rows).</summary>
    public NativeLlamaWeights(LlamaConfig config, FillTensor fill) : base(config)
    {
        var c = config;
        long dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        // One huge-page backed block for every tensor (each 64-byte aligned), as the artifact weights get.
        static long Aligned(long floats) => (floats * sizeof(float) + 63) & ~63L;
        _size = Aligned(c.VocabSize * dim) * (c.SharedClassifier ? 1 : 2) + Aligned(dim)
            + c.Layers * (2 * Aligned(dim) + 2 * Aligned(dim * dim) + 2 * Aligned(kv * dim) + 3 * Aligned(hidden * dim));
        _block = (byte*)Memory.HugePages.Allocate((nuint)_size);
        try
        {
            TokenEmbedding = Allocate("tok_embeddings", c.VocabSize * dim, dim, fill);
            FinalNorm = Allocate("norm", dim, 0, fill);
            Classifier = c.SharedClassifier ? TokenEmbedding : Allocate("output", c.VocabSize * dim, dim, fill);
            for (var l = 0; l < c.Layers; l++)
            {
                Layers[l] = new LayerWeights
                {
                    AttentionNorm = Allocate($"layers.{l}.attention_norm", dim, 0, fill),
                    Wq = Matrix($"layers.{l}.attention.wq", dim, dim, fill),
                    Wk = Matrix($"layers.{l}.attention.wk", kv, dim, fill),
                    Wv = Matrix($"layers.{l}.attention.wv", kv, dim, fill),
                    Wo = Matrix($"layers.{l}.attention.wo", dim, dim, fill),
                    FfnNorm = Allocate($"layers.{l}.ffn_norm", dim, 0, fill),
                    W1 = Matrix($"layers.{l}.feed_forward.w1", hidden, dim, fill),
                    W2 = Matrix($"layers.{l}.feed_forward.w2", dim, hidden, fill),
                    W3 = Matrix($"layers.{l}.feed_forward.w3", hidden, dim, fill),
                };
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Writes a tensor's values; <c>fanIn</c> is the row length of a matrix, 0 for a norm weight vector.</summary>
    public delegate void FillTensor(string name, Span<float> destination, long fanIn);

    /// <summary>
    /// Random weights with a fixed seed: matrices uniform in ±1/sqrt(fan-in) (activations stay O(1) through the layers),
    /// norm weights 1. Filled in parallel with a counter-based generator, so a 4.4 GB model takes seconds.
    /// </summary>
    public static NativeLlamaWeights Random(LlamaConfig config, ulong seed)
        => new(config, (name, destination, fanIn) => FillRandom(name, destination, fanIn, seed));

    public static void FillRandom(string name, Span<float> destination, long fanIn, ulong seed)
    {
        if (fanIn == 0)
        {
            destination.Fill(1f);
            return;
        }
        var scale = 1f / MathF.Sqrt(fanIn);
        var nameHash = StableHash(name);
        const int chunk = 1 << 20;
        var length = destination.Length;
        fixed (float* basePointer = destination)
        {
            var p = basePointer;
            Parallel.For(0, (length + chunk - 1) / chunk, block =>
            {
                var state = seed ^ nameHash ^ ((ulong)block * 0xD1B54A32D192ED03UL) | 1;
                var end = Math.Min(length, (block + 1) * chunk);
                for (var i = block * chunk; i < end; i++)
                {
                    state ^= state >> 12;
                    state ^= state << 25;
                    state ^= state >> 27;
                    var bits = (uint)((state * 0x2545F4914F6CDD1DUL) >> 40); // 24 random bits
                    p[i] = (bits * (2f / 16777216f) - 1f) * scale;
                }
            });
        }
    }

    private static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL; // FNV-1a
        foreach (var ch in text)
        {
            hash ^= ch;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    private LayerMatrix Matrix(string name, long rows, long cols, FillTensor fill)
        => LayerMatrix.Dense(WeightMatrix.F32(Allocate(name, rows * cols, cols, fill), (int)rows, (int)cols));

    private float* Allocate(string name, long count, long fanIn, FillTensor fill)
    {
        var pointer = (float*)(_block + _used);
        _used += (count * sizeof(float) + 63) & ~63L;
        if (_used > _size) throw new InvalidOperationException("Weight block too small.");
        for (long at = 0; at < count; at += int.MaxValue / 2)
        {
            var n = (int)Math.Min(int.MaxValue / 2, count - at);
            fill(name, new Span<float>(pointer + at, n), fanIn);
        }
        return pointer;
    }

    public override void Dispose()
    {
        if (_block is null) return;
        Memory.HugePages.Free(_block);
        _block = null;
    }
}
