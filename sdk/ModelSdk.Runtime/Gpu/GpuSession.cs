using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ModelSdk.Architecture;
using ModelSdk.Runtime.Backend;
using ModelSdk.Runtime.Gpu.Kernels;
using ModelSdk.Runtime.Sampling;

namespace ModelSdk.Runtime.Gpu;

/// <summary>
/// One caller's state on the GPU: KV cache, activations, logits and the step state, all device memory allocated once,
/// and its own stream. Per decode step the host launches one tiny kernel that sets (token, pos) and the step (a CUDA
/// graph replay, or ~6 launches per layer), then either the argmax kernel and a 4-byte copy back (greedy), or a copy of
/// the logits (other sampling). A prompt runs as one batch per <see cref="GpuBackend.MaxPrefillTokens"/> tokens:
/// GEMMs over the batch and causal attention for each of its tokens.
/// </summary>
internal abstract class GpuSession : IInferenceSession
{
    public abstract LlamaConfig Config { get; }

    /// <summary>Why the decode step runs as plain launches instead of a CUDA graph (null while it uses one or has not tried).</summary>
    public abstract string? GraphFailure { get; }

    /// <summary>True once decode steps replay a captured CUDA graph.</summary>
    public abstract bool UsesGraph { get; }

    public abstract void Forward(int token, int pos, bool computeLogits);

    public abstract void Prefill(ReadOnlySpan<int> tokens, int startPos, bool computeLogits, CancellationToken ct);

    public abstract Span<float> Logits();

    public abstract int Sample(Sampler sampler);

    /// <summary>The greedy next token of the last logits, picked on the device.</summary>
    public abstract int Argmax();

    /// <summary>Waits for the session's stream.</summary>
    public abstract void Synchronize();

    public abstract void Dispose();
}

internal sealed class GpuSession<TFormat> : GpuSession where TFormat : struct, IWeightFormat
{
    private readonly GpuBackend _backend;
    private readonly GpuKernels<TFormat> _k;
    private readonly GpuWeights _w;
    private readonly LlamaConfig _c;
    private readonly AcceleratorStream _stream;
    private readonly List<MemoryBuffer> _buffers = [];
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _state, _tokens;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _x, _xb, _q, _att, _h, _logits, _partialOut, _partialStats, _keys, _values;
    private readonly float[] _hostLogits;
    private readonly int[] _hostToken = new int[1];
    private readonly int _maxTokens, _splits, _chunk;
    private CudaGraph? _graph;
    private bool _graphTried;
    private string? _graphFailure;
    private bool _disposed;

    public GpuSession(GpuBackend backend, GpuKernels<TFormat> kernels)
    {
        _backend = backend;
        _k = kernels;
        _w = backend.Weights;
        _c = _w.Config;
        var accelerator = kernels.Accelerator;
        lock (backend.Gate)
        {
            accelerator.Bind();
            _stream = accelerator.CreateStream();
            try
            {
                _maxTokens = Math.Max(1, Math.Min(backend.MaxPrefillTokens, _c.ContextLength));
                _chunk = Math.Max(1, Math.Min(backend.AttentionChunk, _c.ContextLength));
                _splits = (_c.ContextLength + _chunk - 1) / _chunk;
                long dim = _c.Dim, t = _maxTokens, cache = (long)_c.Layers * _c.ContextLength * _c.KvDim;
                _state = Ints(StepState.Length);
                _tokens = Ints(t);
                _x = Floats(t * dim);
                _xb = Floats(t * dim);
                _q = Floats(t * dim);
                _att = Floats(t * dim);
                _h = Floats(t * _c.HiddenDim);
                _logits = Floats(_c.VocabSize);
                _partialOut = Floats(t * _c.Heads * _splits * _c.HeadSize);
                _partialStats = Floats(t * _c.Heads * _splits * 2);
                _keys = Floats(cache);
                _values = Floats(cache);
                foreach (var buffer in _buffers) buffer.MemSet(_stream, 0, 0, buffer.LengthInBytes);
                _stream.Synchronize();
            }
            catch
            {
                FreeBuffers();
                _stream.Dispose();
                throw;
            }
        }
        _hostLogits = new float[_c.VocabSize];
    }

    public override LlamaConfig Config => _c;

    public override string? GraphFailure => _graphFailure;

    public override bool UsesGraph => _graph is not null;

    /// <summary>Device bytes this session holds (KV cache and activations).</summary>
    public long BytesAllocated => _buffers.Sum(b => b.LengthInBytes);

    private MemoryBuffer1D<float, Stride1D.Dense> Floats(long count)
    {
        var buffer = _k.Accelerator.Allocate1D<float>(count);
        _buffers.Add(buffer);
        return buffer;
    }

    private MemoryBuffer1D<int, Stride1D.Dense> Ints(long count)
    {
        var buffer = _k.Accelerator.Allocate1D<int>(count);
        _buffers.Add(buffer);
        return buffer;
    }

    public override void Forward(int token, int pos, bool computeLogits)
    {
        CheckStep(token, pos);
        lock (_backend.Gate)
        {
            _k.Accelerator.Bind();
            _k.SetState(_stream, new KernelConfig(1, 1), _state.View, token, pos);
            if (computeLogits && TryGraph() is { } graph) graph.Launch((CudaStream)_stream);
            else DecodeStep(computeLogits);
        }
    }

    /// <summary>Launches one decode step for the (token, pos) in the state buffer.</summary>
    private void DecodeStep(bool computeLogits)
    {
        var k = _k;
        var c = _c;
        var s = _stream;
        var x = _x.View.SubView(0, c.Dim);
        k.Embedding(s, new KernelConfig((_w.Embedding.RowChunks + k.GroupSize - 1) / k.GroupSize, k.GroupSize), new EmbeddingArgs
        {
            Table = _w.Embedding.View, RowChunks = _w.Embedding.RowChunks, Dim = c.Dim,
            TokenIds = _state.View.SubView(StepState.Token, 1), Tokens = 1, X = x,
        });
        for (var l = 0; l < c.Layers; l++)
        {
            var layer = _w.Layers[l];
            k.MatVecQkv(s, k.MatVecConfig(layer.Qkv), GpuKernels<TFormat>.MatVec(layer.Qkv, x, layer.AttentionNorm.View, c.NormEps), Qkv(l));
            Attention(l, 1);
            k.MatVecAdd(s, k.MatVecConfig(layer.Wo), GpuKernels<TFormat>.MatVec(layer.Wo, _att.View.SubView(0, c.Dim), default, 0),
                new AddRows { Y = x, Rows = c.Dim });
            k.MatVecSwiGlu(s, k.MatVecConfig(layer.GateUp), GpuKernels<TFormat>.MatVec(layer.GateUp, x, layer.FfnNorm.View, c.NormEps),
                new SwiGluRows { H = _h.View, Hidden = c.HiddenDim });
            k.MatVecAdd(s, k.MatVecConfig(layer.W2), GpuKernels<TFormat>.MatVec(layer.W2, _h.View.SubView(0, c.HiddenDim), default, 0),
                new AddRows { Y = x, Rows = c.Dim });
        }
        if (computeLogits) Classify(x);
    }

    private void Classify(ArrayView<float> x)
    {
        _k.MatVecStore(_stream, _k.MatVecConfig(_w.Classifier), GpuKernels<TFormat>.MatVec(_w.Classifier, x, _w.FinalNorm.View, _c.NormEps),
            new StoreRows { Y = _logits.View, Rows = _c.VocabSize });
    }

    private QkvRope Qkv(int layer) => new()
    {
        Q = _q.View, KeyCache = _keys.View, ValueCache = _values.View, Rope = _w.Rope.View, State = _state.View,
        LayerOffset = (long)layer * _c.ContextLength * _c.KvDim, Dim = _c.Dim, KvDim = _c.KvDim, HeadSize = _c.HeadSize,
    };

    private void Attention(int layer, int tokens)
    {
        var c = _c;
        var args = new AttentionArgs
        {
            Q = _q.View, KeyCache = _keys.View, ValueCache = _values.View, LayerOffset = (long)layer * c.ContextLength * c.KvDim,
            State = _state.View, Heads = c.Heads, KvDim = c.KvDim, HeadSize = c.HeadSize, HeadsPerKv = c.Heads / c.KvHeads,
            Chunk = _chunk, Splits = _splits, PartialOut = _partialOut.View, PartialStats = _partialStats.View,
        };
        var group = _k.AttentionGroupSize;
        _k.AttentionPartial(_stream, new KernelConfig(new Index3D(c.Heads, _splits, tokens), new Index3D(group, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(c.HeadSize + _chunk + Math.Max(group, c.HeadSize))), args);
        _k.AttentionCombine(_stream, new KernelConfig(new Index3D(c.Heads, tokens, 1), new Index3D(Math.Min(group, Math.Max(_k.Accelerator.WarpSize, c.HeadSize)), 1, 1)),
            args, _att.View);
    }

    /// <summary>Captures the decode step (with logits) as a CUDA graph the first time it is needed; null on the emulator or if capture fails.</summary>
    private CudaGraph? TryGraph()
    {
        if (_graph is not null || _graphTried) return _graph;
        if (!_backend.UseGraphs || _stream is not CudaStream cuda) return null;
        _graphTried = true;
        _graph = CudaGraph.Capture(cuda, () => DecodeStep(computeLogits: true), out _graphFailure);
        return _graph;
    }

    public override void Prefill(ReadOnlySpan<int> tokens, int startPos, bool computeLogits, CancellationToken ct)
    {
        if (tokens.IsEmpty) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        if (startPos < 0 || startPos + tokens.Length > _c.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(startPos), startPos, $"Positions {startPos}..{startPos + tokens.Length - 1} do not fit the context of {_c.ContextLength}.");
        foreach (var token in tokens) CheckStep(token, startPos);
        if (tokens.Length == 1)
        {
            Forward(tokens[0], startPos, computeLogits);
            return;
        }
        for (var done = 0; done < tokens.Length; done += _maxTokens)
        {
            ct.ThrowIfCancellationRequested();
            var batch = tokens.Slice(done, Math.Min(_maxTokens, tokens.Length - done));
            lock (_backend.Gate)
            {
                _k.Accelerator.Bind();
                PrefillBatch(batch, startPos + done, computeLogits && done + batch.Length == tokens.Length);
                _stream.Synchronize();
            }
        }
    }

    private void PrefillBatch(ReadOnlySpan<int> tokens, int startPos, bool computeLogits)
    {
        var k = _k;
        var c = _c;
        var s = _stream;
        var n = tokens.Length;
        k.SetState(s, new KernelConfig(1, 1), _state.View, tokens[0], startPos);
        _tokens.View.SubView(0, n).CopyFromCPU(s, ref System.Runtime.InteropServices.MemoryMarshal.GetReference(tokens), n);
        var x = _x.View.SubView(0, (long)n * c.Dim);
        var xb = _xb.View.SubView(0, (long)n * c.Dim);
        var chunks = (long)n * _w.Embedding.RowChunks;
        k.Embedding(s, new KernelConfig((int)Math.Min((chunks + k.GroupSize - 1) / k.GroupSize, 65535), k.GroupSize), new EmbeddingArgs
        {
            Table = _w.Embedding.View, RowChunks = _w.Embedding.RowChunks, Dim = c.Dim, TokenIds = _tokens.View, Tokens = n, X = x,
        });
        var normConfig = new KernelConfig(n, k.GroupSize);
        for (var l = 0; l < c.Layers; l++)
        {
            var layer = _w.Layers[l];
            k.RmsNorm(s, normConfig, x, layer.AttentionNorm.View, xb, c.Dim, c.NormEps);
            k.GemmQkv(s, k.GemmConfig(layer.Qkv, n), k.Gemm(layer.Qkv, xb, n), Qkv(l));
            Attention(l, n);
            k.GemmAdd(s, k.GemmConfig(layer.Wo, n), k.Gemm(layer.Wo, _att.View, n), new AddRows { Y = x, Rows = c.Dim });
            k.RmsNorm(s, normConfig, x, layer.FfnNorm.View, xb, c.Dim, c.NormEps);
            k.GemmSwiGlu(s, k.GemmConfig(layer.GateUp, n), k.Gemm(layer.GateUp, xb, n), new SwiGluRows { H = _h.View, Hidden = c.HiddenDim });
            k.GemmAdd(s, k.GemmConfig(layer.W2, n), k.Gemm(layer.W2, _h.View, n), new AddRows { Y = x, Rows = c.Dim });
        }
        if (computeLogits) Classify(x.SubView((long)(n - 1) * c.Dim, c.Dim));
    }

    public override Span<float> Logits()
    {
        lock (_backend.Gate)
        {
            _k.Accelerator.Bind();
            _logits.View.CopyToCPU(_stream, ref _hostLogits[0], _hostLogits.Length);
        }
        return _hostLogits;
    }

    public override int Argmax()
    {
        lock (_backend.Gate)
        {
            _k.Accelerator.Bind();
            _k.Argmax(_stream, new KernelConfig(1, Math.Min(1024, _k.Accelerator.MaxNumThreadsPerGroup) / _k.Accelerator.WarpSize * _k.Accelerator.WarpSize),
                _logits.View, _c.VocabSize, _state.View);
            _state.View.SubView(StepState.Argmax, 1).CopyToCPU(_stream, ref _hostToken[0], 1);
        }
        return _hostToken[0];
    }

    public override int Sample(Sampler sampler) => sampler.IsGreedy ? Argmax() : sampler.Sample(Logits());

    public override void Synchronize()
    {
        lock (_backend.Gate)
        {
            _k.Accelerator.Bind();
            _stream.Synchronize();
        }
    }

    private void CheckStep(int token, int pos)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)token >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids are 0..{_c.VocabSize - 1}.");
        if ((uint)pos >= (uint)_c.ContextLength) throw new ArgumentOutOfRangeException(nameof(pos), pos, $"Positions are 0..{_c.ContextLength - 1}.");
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_backend.Gate)
        {
            _k.Accelerator.Bind();
            _graph?.Dispose();
            _graph = null;
            FreeBuffers();
            _stream.Dispose();
        }
    }

    private void FreeBuffers()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}
