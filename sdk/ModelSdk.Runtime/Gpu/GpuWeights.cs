using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ModelSdk.Architecture;
using ModelSdk.Runtime.Gpu.Kernels;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Gpu;

/// <summary>How weight matrices are stored on the GPU.</summary>
internal enum GpuWeightFormat
{
    /// <summary>fp32, as in the artifact.</summary>
    F32,

    /// <summary>fp16, converted from fp32 at upload (round to nearest even): half the memory and bytes per token.</summary>
    F16,
}

/// <summary>A weight matrix on the device: [rows][rowChunks] 16-byte chunks, each row zero-padded to whole chunks.</summary>
internal sealed class GpuMatrix(MemoryBuffer1D<Chunk16, Stride1D.Dense> buffer, int rows, int cols, int rowChunks) : IDisposable
{
    public ArrayView<Chunk16> View => buffer.View;

    public int Rows { get; } = rows;

    public int Cols { get; } = cols;

    public int RowChunks { get; } = rowChunks;

    public long Bytes => buffer.LengthInBytes;

    public void Dispose() => buffer.Dispose();
}

/// <summary>
/// A model's weights uploaded once to the device, in the layout the kernels read: q, k and v stacked into one matrix
/// (one fused QKV matvec), w1 and w3 interleaved row by row (gate and up of a hidden unit are one row pair), the
/// classifier shared with the embedding when the model shares them; norms and the RoPE table in fp32.
/// </summary>
internal sealed unsafe class GpuWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public GpuWeights(Accelerator accelerator, LlamaWeights weights, GpuWeightFormat format)
    {
        var c = weights.Config;
        Config = c;
        Format = format;
        int dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        CheckSupported(weights);
        try
        {
            var embedding = weights.EmbeddingType;
            Embedding = Matrix(accelerator, embedding, c.VocabSize, dim, r => Row(weights.TokenEmbedding, embedding, r, dim));
            Classifier = weights.Classifier == weights.TokenEmbedding
                ? Embedding
                : Matrix(accelerator, weights.ClassifierType, c.VocabSize, dim, r => Row(weights.Classifier, weights.ClassifierType, r, dim));
            FinalNorm = Vector(accelerator, weights.FinalNorm, dim);
            Layers = new GpuLayer[c.Layers];
            for (var l = 0; l < c.Layers; l++)
            {
                var w = weights.Layers[l];
                var t = w.Wq.Outer.Type; // CheckSupported: one dense type for the seven
                Layers[l] = new GpuLayer
                {
                    AttentionNorm = Vector(accelerator, w.AttentionNorm, dim),
                    Qkv = Matrix(accelerator, t, dim + 2 * kv, dim,
                        r => r < dim ? Row(w.Wq, r) : r < dim + kv ? Row(w.Wk, r - dim) : Row(w.Wv, r - dim - kv)),
                    Wo = Matrix(accelerator, t, dim, dim, r => Row(w.Wo, r)),
                    FfnNorm = Vector(accelerator, w.FfnNorm, dim),
                    GateUp = Matrix(accelerator, t, 2 * hidden, dim, r => Row(r % 2 == 0 ? w.W1 : w.W3, r / 2)),
                    W2 = Matrix(accelerator, t, dim, hidden, r => Row(w.W2, r)),
                };
            }
            Rope = Vector(accelerator, RopeAngles(c), (long)c.ContextLength * c.HeadSize);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The GPU kernels read dense fp32 and fp16 matrices, one type per layer; quantized and low-rank factored ones are refused with the fix.</summary>
    private static void CheckSupported(LlamaWeights weights)
    {
        if (weights.Layers.SelectMany((layer, l) => layer.Matrices.Select(m => (Layer: l, Matrix: m))).FirstOrDefault(e => e.Matrix.IsFactored) is { Matrix.IsFactored: true } factored)
            throw new NotSupportedException(
                $"The GPU backend runs dense matrices; this model stores low-rank matrices as their two factors (layers.{factored.Layer}: {factored.Matrix.Describe()}), " +
                "which only the CPU kernels multiply by. Load it with Device = ModelDevice.Cpu, or compile it with LowRankStorage=\"dense\" (the same model, stored as the dense products).");
        static bool Ok(TensorType type) => type is TensorType.F32 or TensorType.F16;
        var types = weights.Layers.SelectMany(l => l.Matrices.Select(m => m.Outer.Type)).Distinct().ToArray();
        var unsupported = !Ok(weights.EmbeddingType) || !Ok(weights.ClassifierType) || types.Any(t => !Ok(t));
        if (unsupported && types.Any(t => TensorFormats.Of(t).Sparse24))
            throw new NotSupportedException(
                $"The GPU backend runs dense f32 and f16 weights; this model's are {types[0].ToManifestName()}, compressed 2:4 matrices the CPU kernels read. Load it with Device = ModelDevice.Cpu, or compile it with SparseStorage=\"dense\" and without int8 quantization (or with f16).");
        if (unsupported)
            throw new NotSupportedException(
                $"The GPU backend runs f32 and f16 weights; this model's are {types[0].ToManifestName()}. Load it with Device = ModelDevice.Cpu, or compile it without quantization (or with f16).");
        if (weights.Layers.Any(l => l.Matrices.Any(m => m.Outer.Type != l.Wq.Outer.Type)))
            throw new NotSupportedException(
                $"The GPU backend needs one storage type for a layer's seven matrices; this model mixes {string.Join(" and ", types.Select(t => t.ToManifestName()))}. Load it with Device = ModelDevice.Cpu.");
    }

    private static nint Row(float* matrix, TensorType type, long row, int cols) => (nint)((byte*)matrix + row * cols * (type == TensorType.F16 ? 2 : 4));

    private static nint Row(in LayerMatrix matrix, long row) => Row(matrix.Outer.F32Data, matrix.Outer.Type, row, matrix.Cols);

    public LlamaConfig Config { get; }

    public GpuWeightFormat Format { get; }

    public GpuMatrix Embedding { get; }

    public GpuMatrix Classifier { get; }

    public MemoryBuffer1D<float, Stride1D.Dense> FinalNorm { get; }

    public GpuLayer[] Layers { get; }

    /// <summary>[seq][headSize / 2][cos, sin], llama2.c's float formula.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Rope { get; }

    /// <summary>Device bytes of weights one decode step reads: every matrix once (the classifier included), the norms.</summary>
    public long BytesPerToken
    {
        get
        {
            long bytes = Classifier.Bytes + FinalNorm.LengthInBytes + Embedding.Bytes / Config.VocabSize;
            foreach (var layer in Layers)
                bytes += layer.Qkv.Bytes + layer.Wo.Bytes + layer.GateUp.Bytes + layer.W2.Bytes + layer.AttentionNorm.LengthInBytes + layer.FfnNorm.LengthInBytes;
            return bytes;
        }
    }

    public static int ElementsPerChunk(GpuWeightFormat format) => format == GpuWeightFormat.F16 ? 8 : 4;

    private static float[] RopeAngles(LlamaConfig c)
    {
        var hs = c.HeadSize;
        var table = new float[(long)c.ContextLength * hs];
        for (var pos = 0; pos < c.ContextLength; pos++)
        {
            for (var i = 0; i < hs; i += 2)
            {
                var freq = 1.0f / MathF.Pow(c.RopeTheta, i / (float)hs);
                var val = pos * freq;
                var at = (long)pos * hs + i;
                table[at] = MathF.Cos(val);
                table[at + 1] = MathF.Sin(val);
            }
        }
        return table;
    }

    private GpuMatrix Matrix(Accelerator accelerator, TensorType source, int rows, int cols, Func<int, nint> rowAddress)
    {
        var matrix = Pack(accelerator, Format, source, rows, cols, rowAddress);
        _owned.Add(matrix);
        return matrix;
    }

    /// <summary>Packs fp32 or fp16 rows (given by address) into the format's chunks and uploads them.</summary>
    public static GpuMatrix Pack(Accelerator accelerator, GpuWeightFormat format, TensorType source, int rows, int cols, Func<int, nint> rowAddress)
    {
        var per = ElementsPerChunk(format);
        var rowChunks = (cols + per - 1) / per;
        var host = GC.AllocateUninitializedArray<Chunk16>(checked(rows * rowChunks));
        Parallel.For(0, rows, r =>
        {
            var dst = MemoryMarshal.AsBytes(host.AsSpan(r * rowChunks, rowChunks));
            dst.Clear();
            if (source == TensorType.F16)
            {
                var src = new ReadOnlySpan<System.Half>((System.Half*)rowAddress(r), cols);
                if (format == GpuWeightFormat.F16) MemoryMarshal.AsBytes(src).CopyTo(dst);
                else
                {
                    var floats = MemoryMarshal.Cast<byte, float>(dst);
                    for (var i = 0; i < cols; i++) floats[i] = (float)src[i];
                }
            }
            else
            {
                var src = new ReadOnlySpan<float>((float*)rowAddress(r), cols);
                if (format == GpuWeightFormat.F32) MemoryMarshal.AsBytes(src).CopyTo(dst);
                else
                {
                    var halves = MemoryMarshal.Cast<byte, ushort>(dst);
                    for (var i = 0; i < cols; i++) halves[i] = BitConverter.HalfToUInt16Bits((System.Half)src[i]);
                }
            }
        });
        var buffer = accelerator.Allocate1D(host);
        return new GpuMatrix(buffer, rows, cols, rowChunks);
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Vector(Accelerator accelerator, float* source, long count)
        => Vector(accelerator, new ReadOnlySpan<float>(source, checked((int)count)).ToArray(), count);

    private MemoryBuffer1D<float, Stride1D.Dense> Vector(Accelerator accelerator, float[] values, long count)
    {
        var buffer = accelerator.Allocate1D(values);
        _owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var item in _owned) item.Dispose();
        _owned.Clear();
    }
}

/// <summary>One transformer block on the device.</summary>
internal sealed class GpuLayer
{
    public required MemoryBuffer1D<float, Stride1D.Dense> AttentionNorm { get; init; }
    /// <summary>[dim + 2·kvDim, dim]: wq, wk, wv stacked.</summary>
    public required GpuMatrix Qkv { get; init; }
    public required GpuMatrix Wo { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> FfnNorm { get; init; }
    /// <summary>[2·hidden, dim]: row 2i = w1 row i, row 2i + 1 = w3 row i.</summary>
    public required GpuMatrix GateUp { get; init; }
    public required GpuMatrix W2 { get; init; }
}
