using ILGPU;
using ILGPU.Runtime;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Gpu.Kernels;
using ModelSdk.Runtime.Kernels.Reference;
using ModelSdk.Tests.Runtime.Support;

namespace ModelSdk.Tests.Gpu;

/// <summary>
/// Each GPU kernel on ILGPU's CPU accelerator against the scalar reference kernels, by normalized mean-squared error, on
/// small shapes with ragged edges (odd row counts, rows that are not whole chunks, tiles and splits cut short). Outputs
/// start as NaN, so an element a kernel failed to write fails the check. fp16 references use the rounded weights.
/// </summary>
[Collection(Emulator.Collection)]
public sealed unsafe class GpuKernelTests
{
    private const double Tolerance = 1e-10;

    /// <summary>false: fp32 weights, true: fp16.</summary>
    public static TheoryData<bool> Formats => new() { false, true };

    private static void MatVec<TEpilogue>(GpuWeightFormat format, GpuMatrix w, ArrayView<float> x, ArrayView<float> norm, TEpilogue epilogue)
        where TEpilogue : struct, IRowPairEpilogue
    {
        var stream = Emulator.Accelerator.DefaultStream;
        var args = GpuKernels<F32Weights>.MatVec(w, x, norm, 1e-5f);
        if (format == GpuWeightFormat.F32)
        {
            var k = Emulator.KernelsF32;
            Launch(k.MatVecQkv, k.MatVecAdd, k.MatVecSwiGlu, k.MatVecStore, stream, k.MatVecConfig(w), args, epilogue);
        }
        else
        {
            var k = Emulator.KernelsF16;
            Launch(k.MatVecQkv, k.MatVecAdd, k.MatVecSwiGlu, k.MatVecStore, stream, k.MatVecConfig(w), args, epilogue);
        }
        stream.Synchronize();
    }

    private static void Gemm<TEpilogue>(GpuWeightFormat format, GpuMatrix w, ArrayView<float> a, int tokens, TEpilogue epilogue)
        where TEpilogue : struct, IRowPairEpilogue
    {
        var stream = Emulator.Accelerator.DefaultStream;
        if (format == GpuWeightFormat.F32)
        {
            var k = Emulator.KernelsF32;
            Launch(k.GemmQkv, k.GemmAdd, k.GemmSwiGlu, k.GemmStore, stream, k.GemmConfig(w, tokens), k.Gemm(w, a, tokens), epilogue);
        }
        else
        {
            var k = Emulator.KernelsF16;
            Launch(k.GemmQkv, k.GemmAdd, k.GemmSwiGlu, k.GemmStore, stream, k.GemmConfig(w, tokens), k.Gemm(w, a, tokens), epilogue);
        }
        stream.Synchronize();
    }

    /// <summary>Picks the loaded kernel whose epilogue type matches.</summary>
    private static void Launch<TArgs, TEpilogue>(
        Action<AcceleratorStream, KernelConfig, TArgs, QkvRope> qkv, Action<AcceleratorStream, KernelConfig, TArgs, AddRows> add,
        Action<AcceleratorStream, KernelConfig, TArgs, SwiGluRows> swiGlu, Action<AcceleratorStream, KernelConfig, TArgs, StoreRows> store,
        AcceleratorStream stream, KernelConfig config, TArgs args, TEpilogue epilogue)
        where TArgs : struct
        where TEpilogue : struct, IRowPairEpilogue
    {
        switch (epilogue)
        {
            case QkvRope e: qkv(stream, config, args, e); break;
            case AddRows e: add(stream, config, args, e); break;
            case SwiGluRows e: swiGlu(stream, config, args, e); break;
            case StoreRows e: store(stream, config, args, e); break;
            default: throw new ArgumentException(typeof(TEpilogue).Name);
        }
    }

    private static float[] Rows(float[] w, float[] x, int rows, int cols)
    {
        var y = new float[rows];
        fixed (float* pw = w, px = x, py = y) MatVecReference.Rows(pw, px, py, cols, 0, rows, false);
        return y;
    }

    private static float[] Norm(float[] x, float[] weight)
    {
        var y = new float[x.Length];
        fixed (float* px = x, pw = weight, py = y) RmsNormReference.Apply(py, px, pw, x.Length, 1e-5f);
        return y;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void MatVec_WithRmsNorm_StoresEveryRow(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int rows = 23, cols = 37; // odd rows (a pair cut short), rows not whole chunks
        var w = Numerics.Random(rows * cols, 1);
        var x = Numerics.Random(cols, 2, 3f);
        var g = Numerics.Random(cols, 3);
        using var matrix = Emulator.Matrix(w, rows, cols, format);
        using var xs = Emulator.Upload(x);
        using var gs = Emulator.Upload(g);
        using var y = Emulator.Poisoned(rows);
        MatVec(format, matrix, xs.View, gs.View, new StoreRows { Y = y.View, Rows = rows });
        var expected = Rows(Emulator.AsStored(w, format), Norm(x, g), rows, cols);
        Assert.True(Numerics.Nmse(y.GetAsArray1D(), expected) < Tolerance);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void MatVec_ResidualAdd(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int rows = 40, cols = 72; // several pairs per warp, two chunks per lane
        var w = Numerics.Random(rows * cols, 4);
        var x = Numerics.Random(cols, 5);
        var y0 = Numerics.Random(rows, 6);
        using var matrix = Emulator.Matrix(w, rows, cols, format);
        using var xs = Emulator.Upload(x);
        using var y = Emulator.Upload(y0);
        MatVec(format, matrix, xs.View, default, new AddRows { Y = y.View, Rows = rows });
        var expected = Rows(Emulator.AsStored(w, format), x, rows, cols).Select((v, i) => y0[i] + v).ToArray();
        Assert.True(Numerics.Nmse(y.GetAsArray1D(), expected) < Tolerance);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void MatVec_GateUpSwiGlu(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int hidden = 13, cols = 24;
        var w1 = Numerics.Random(hidden * cols, 7);
        var w3 = Numerics.Random(hidden * cols, 8);
        var x = Numerics.Random(cols, 9, 2f);
        var g = Numerics.Random(cols, 10);
        var interleaved = new float[2 * hidden * cols];
        for (var i = 0; i < hidden; i++)
        {
            Array.Copy(w1, i * cols, interleaved, 2 * i * cols, cols);
            Array.Copy(w3, i * cols, interleaved, (2 * i + 1) * cols, cols);
        }
        using var matrix = Emulator.Matrix(interleaved, 2 * hidden, cols, format);
        using var xs = Emulator.Upload(x);
        using var gs = Emulator.Upload(g);
        using var h = Emulator.Poisoned(hidden);
        MatVec(format, matrix, xs.View, gs.View, new SwiGluRows { H = h.View, Hidden = hidden });

        var xn = Norm(x, g);
        var gate = Rows(Emulator.AsStored(w1, format), xn, hidden, cols);
        var up = Rows(Emulator.AsStored(w3, format), xn, hidden, cols);
        fixed (float* pg = gate, pu = up) SwiGluReference.Apply(pg, pu, 0, hidden);
        Assert.True(Numerics.Nmse(h.GetAsArray1D(), gate) < Tolerance);
    }

    /// <summary>Fused QKV at position 3 of layer 1: q rotated into q, k rotated into the key cache, v into the value cache.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void MatVec_QkvWithRopeIntoTheCache(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int dim = 16, kv = 8, hs = 4, seq = 5, layers = 2, pos = 3, layer = 1, cols = dim;
        var rows = dim + 2 * kv;
        var w = Numerics.Random(rows * cols, 11);
        var x = Numerics.Random(cols, 12);
        var g = Numerics.Random(cols, 13);
        using var matrix = Emulator.Matrix(w, rows, cols, format);
        using var xs = Emulator.Upload(x);
        using var gs = Emulator.Upload(g);
        using var q = Emulator.Poisoned(dim);
        using var keys = Emulator.Upload(new float[layers * seq * kv]);
        using var values = Emulator.Upload(new float[layers * seq * kv]);
        using var rope = Emulator.Upload(RopeTable(seq, hs));
        using var state = Emulator.Upload([0, pos, 0, 0]);
        MatVec(format, matrix, xs.View, gs.View, new QkvRope
        {
            Q = q.View, KeyCache = keys.View, ValueCache = values.View, Rope = rope.View, State = state.View,
            LayerOffset = (long)layer * seq * kv, Dim = dim, KvDim = kv, HeadSize = hs,
        });

        var all = Rows(Emulator.AsStored(w, format), Norm(x, g), rows, cols);
        var eq = all[..dim];
        var ek = all[dim..(dim + kv)];
        var ev = all[(dim + kv)..];
        fixed (float* pq = eq, pk = ek)
        {
            RopeReference.Apply(pq, dim, hs, pos, 10000f);
            RopeReference.Apply(pk, kv, hs, pos, 10000f);
        }
        var cacheAt = (layer * seq + pos) * kv;
        Assert.True(Numerics.Nmse(q.GetAsArray1D(), eq) < Tolerance);
        Assert.True(Numerics.Nmse(keys.GetAsArray1D().AsSpan(cacheAt, kv), ek) < Tolerance);
        Assert.True(Numerics.Nmse(values.GetAsArray1D().AsSpan(cacheAt, kv), ev) < Tolerance);
        Assert.All(keys.GetAsArray1D().Where((_, i) => i < cacheAt || i >= cacheAt + kv), v => Assert.Equal(0f, v));
    }

    internal static float[] RopeTable(int seq, int hs)
    {
        var table = new float[seq * hs];
        for (var p = 0; p < seq; p++)
        for (var i = 0; i < hs; i += 2)
        {
            var val = p * (1.0f / MathF.Pow(10000f, i / (float)hs));
            table[p * hs + i] = MathF.Cos(val);
            table[p * hs + i + 1] = MathF.Sin(val);
        }
        return table;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Gemm_MatchesMatVecPerToken(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int tokens = 11, rows = 23, cols = 45; // partial token and row tiles, a k tail
        var w = Numerics.Random(rows * cols, 14);
        var a = Numerics.Random(tokens * cols, 15);
        using var matrix = Emulator.Matrix(w, rows, cols, format);
        using var activations = Emulator.Upload(a);
        using var c = Emulator.Poisoned(tokens * rows);
        Gemm(format, matrix, activations.View, tokens, new StoreRows { Y = c.View, Rows = rows });
        var stored = Emulator.AsStored(w, format);
        var expected = Enumerable.Range(0, tokens).SelectMany(t => Rows(stored, a[(t * cols)..((t + 1) * cols)], rows, cols)).ToArray();
        Assert.True(Numerics.Nmse(c.GetAsArray1D(), expected) < Tolerance);
    }

    [Fact]
    public void Gemm_GateUpSwiGluAndResidual()
    {
        const GpuWeightFormat format = GpuWeightFormat.F16;
        int tokens = 6, hidden = 9, cols = 16;
        var w = Numerics.Random(2 * hidden * cols, 16);
        var a = Numerics.Random(tokens * cols, 17);
        using var matrix = Emulator.Matrix(w, 2 * hidden, cols, format);
        using var activations = Emulator.Upload(a);
        using var h = Emulator.Poisoned(tokens * hidden);
        Gemm(format, matrix, activations.View, tokens, new SwiGluRows { H = h.View, Hidden = hidden });
        var stored = Emulator.AsStored(w, format);
        var expected = new float[tokens * hidden];
        for (var t = 0; t < tokens; t++)
        {
            var all = Rows(stored, a[(t * cols)..((t + 1) * cols)], 2 * hidden, cols);
            for (var i = 0; i < hidden; i++)
            {
                var gate = all[2 * i];
                expected[t * hidden + i] = gate * (1.0f / (1.0f + MathF.Exp(-gate))) * all[2 * i + 1];
            }
        }
        Assert.True(Numerics.Nmse(h.GetAsArray1D(), expected) < Tolerance);

        var y0 = Numerics.Random(tokens * 2 * hidden, 18);
        using var y = Emulator.Upload(y0);
        Gemm(format, matrix, activations.View, tokens, new AddRows { Y = y.View, Rows = 2 * hidden });
        var sums = Enumerable.Range(0, tokens).SelectMany(t => Rows(stored, a[(t * cols)..((t + 1) * cols)], 2 * hidden, cols)).Select((v, i) => y0[i] + v).ToArray();
        Assert.True(Numerics.Nmse(y.GetAsArray1D(), sums) < Tolerance);
    }

    /// <summary>
    /// Split-K attention (chunks of 4 positions) for 3 query tokens at positions 5, 6, 7 over a cache of 11 positions,
    /// 4 heads over 2 kv heads: each token sees positions 0..its own, whatever the split boundaries.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Attention_SplitKMatchesTheReference(int tokens)
    {
        int heads = 4, kvHeads = 2, hs = 6, seq = 11, layers = 2, layer = 1, start = 5, chunk = 4;
        int dim = heads * hs, kv = kvHeads * hs, splits = (seq + chunk - 1) / chunk;
        var q = Numerics.Random(tokens * dim, 19, 2f);
        var keys = Numerics.Random(layers * seq * kv, 20);
        var values = Numerics.Random(layers * seq * kv, 21);
        using var qs = Emulator.Upload(q);
        using var ks = Emulator.Upload(keys);
        using var vs = Emulator.Upload(values);
        using var state = Emulator.Upload([0, start, 0, 0]);
        using var partialOut = Emulator.Poisoned(tokens * heads * splits * hs);
        using var partialStats = Emulator.Poisoned(tokens * heads * splits * 2);
        using var output = Emulator.Poisoned(tokens * dim);
        var args = new AttentionArgs
        {
            Q = qs.View, KeyCache = ks.View, ValueCache = vs.View, LayerOffset = layer * seq * kv, State = state.View,
            Heads = heads, KvDim = kv, HeadSize = hs, HeadsPerKv = heads / kvHeads, Chunk = chunk, Splits = splits,
            PartialOut = partialOut.View, PartialStats = partialStats.View,
        };
        var k = Emulator.KernelsF32;
        var stream = Emulator.Accelerator.DefaultStream;
        var group = k.AttentionGroupSize;
        k.AttentionPartial(stream, new KernelConfig(new Index3D(heads, splits, tokens), new Index3D(group, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(hs + chunk + Math.Max(group, hs))), args);
        k.AttentionCombine(stream, new KernelConfig(new Index3D(heads, tokens, 1), new Index3D(group, 1, 1)), args, output.View);
        stream.Synchronize();

        var expected = new float[tokens * dim];
        var scores = new float[seq];
        fixed (float* pq = q, pk = keys, pv = values, ps = scores, po = expected)
        {
            for (var t = 0; t < tokens; t++)
            for (var h = 0; h < heads; h++)
            {
                var cache = layer * seq * kv + h / (heads / kvHeads) * hs;
                AttentionReference.Head(pq + t * dim + h * hs, pk + cache, pv + cache, kv, hs, start + t + 1, ps, po + t * dim + h * hs);
            }
        }
        Assert.True(Numerics.Nmse(output.GetAsArray1D(), expected) < Tolerance);
    }

    [Fact]
    public void RmsNorm_EachRow()
    {
        int tokens = 3, size = 37;
        var x = Numerics.Random(tokens * size, 22, 4f);
        var g = Numerics.Random(size, 23);
        using var xs = Emulator.Upload(x);
        using var gs = Emulator.Upload(g);
        using var output = Emulator.Poisoned(tokens * size);
        var k = Emulator.KernelsF32;
        k.RmsNorm(Emulator.Accelerator.DefaultStream, new KernelConfig(tokens, k.GroupSize), xs.View, gs.View, output.View, size, 1e-5f);
        Emulator.Accelerator.Synchronize();
        var expected = Enumerable.Range(0, tokens).SelectMany(t => Norm(x[(t * size)..((t + 1) * size)], g)).ToArray();
        Assert.True(Numerics.Nmse(output.GetAsArray1D(), expected) < Tolerance);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Embedding_ExpandsTheTokensRows(bool half)
    {
        var format = half ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
        int vocab = 9, dim = 13;
        var table = Numerics.Random(vocab * dim, 24);
        int[] tokens = [3, 0, 8, 3];
        using var matrix = Emulator.Matrix(table, vocab, dim, format);
        using var ids = Emulator.Upload(tokens);
        using var x = Emulator.Poisoned(tokens.Length * dim);
        var stream = Emulator.Accelerator.DefaultStream;
        var args = new EmbeddingArgs { Table = matrix.View, RowChunks = matrix.RowChunks, Dim = dim, TokenIds = ids.View, Tokens = tokens.Length, X = x.View };
        if (format == GpuWeightFormat.F32) Emulator.KernelsF32.Embedding(stream, new KernelConfig(2, Emulator.KernelsF32.GroupSize), args);
        else Emulator.KernelsF16.Embedding(stream, new KernelConfig(2, Emulator.KernelsF16.GroupSize), args);
        stream.Synchronize();
        var stored = Emulator.AsStored(table, format);
        Assert.Equal(tokens.SelectMany(t => stored[(t * dim)..((t + 1) * dim)]).ToArray(), x.GetAsArray1D());
    }

    [Fact]
    public void Argmax_FirstIndexOfTheLargest()
    {
        var logits = Numerics.Random(1000, 25);
        logits[417] = 5f;
        logits[733] = 5f; // a tie: the lower id wins, as in llama2.c
        logits[12] = float.NaN;
        using var values = Emulator.Upload(logits);
        using var state = Emulator.Upload(new int[StepState.Length]);
        var k = Emulator.KernelsF32;
        k.Argmax(Emulator.Accelerator.DefaultStream, new KernelConfig(1, Emulator.Accelerator.MaxNumThreadsPerGroup), values.View, logits.Length, state.View);
        Emulator.Accelerator.Synchronize();
        Assert.Equal(417, state.GetAsArray1D()[StepState.Argmax]);
    }
}
