using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelSdk.Compression.Passes.Pruning;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Quantization;
using ModelSdk.Runtime.Llama;
using ModelSdk.Sparsity;
using ModelSdk.Tensors;

namespace ModelSdk.Benchmarks;

/// <summary>
/// 2:4 sparse against dense decode (<c>--sparse</c>): the seven matrix-vector products of one decoder block (one token's
/// decode through a block, through the runtime's <see cref="Linear"/> dispatch), single thread, with the same 2:4-pruned
/// weights stored dense (f32, f16, q8_g32) and compressed (f32_sparse24, f16_sparse24, q8_g32_sparse24; int8 at both
/// kernel widths: AVX-512 and AVX2), for the stories15M block shape (fits in
/// cache) and the TinyLlama-1.1B block shape (176 MB in fp32: streams from memory). Prints tokens/s per block and the
/// sparse / dense ratio of the same precision, measured in this run.
/// </summary>
internal static unsafe class SparseBenchmarks
{
    private static readonly (string Name, int Dim, int KvDim, int Hidden)[] Shapes =
    [
        ("stories15M block (288, 768)", 288, 288, 768),
        ("TinyLlama-1.1B block (2048, 5632)", 2048, 256, 5632),
    ];

    private static readonly (TensorType Dense, TensorType Sparse, VectorWidth Width)[] Pairs =
    [
        (TensorType.F32, TensorType.F32Sparse24, VectorWidths.Best),
        (TensorType.F16, TensorType.F16Sparse24, VectorWidths.Best),
        .. new[] { VectorWidth.V512, VectorWidth.V256 }.Where(VectorWidths.IsAccelerated).Select(w => (TensorType.Q8G32, TensorType.Q8G32Sparse24, w)),
    ];

    public static int Run()
    {
        Console.WriteLine("| block shape | precision | dense tok/s | 2:4 tok/s | 2:4 / dense | dense MB | 2:4 MB |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var (name, dim, kvDim, hidden) in Shapes)
        {
            (int Rows, int Cols)[] matrices = [(dim, dim), (kvDim, dim), (kvDim, dim), (dim, dim), (hidden, dim), (dim, hidden), (hidden, dim)];
            var values = matrices.Select((m, i) => Pruned(m.Rows, m.Cols, (ulong)(i + 1))).ToArray();
            foreach (var (dense, sparse, width) in Pairs)
            {
                using var denseBlock = new Block(dense, matrices, values, width);
                using var sparseBlock = new Block(sparse, matrices, values, width);
                // Rounds alternate between the two, so a burst of load from other processes hits both alike; best of each.
                double denseSeconds = double.MaxValue, sparseSeconds = double.MaxValue;
                for (var round = 0; round < 12; round++)
                {
                    denseSeconds = Math.Min(denseSeconds, denseBlock.Time());
                    sparseSeconds = Math.Min(sparseSeconds, sparseBlock.Time());
                }
                long denseBytes = denseBlock.Bytes, sparseBytes = sparseBlock.Bytes;
                var precision = TensorFormats.Of(dense).Bits switch { 32 => "fp32", 16 => "fp16", _ => width == VectorWidth.V512 ? "int8 (AVX-512)" : "int8 (AVX2)" };
                Console.WriteLine($"| {name} | {precision} | {1 / denseSeconds:F0} | {1 / sparseSeconds:F0} | " +
                    $"{denseSeconds / sparseSeconds:F2} | {denseBytes / 1e6:F1} | {sparseBytes / 1e6:F1} |");
            }
        }
        return 0;
    }

    /// <summary>Random weights pruned 2:4 by magnitude.</summary>
    private static float[] Pruned(int rows, int cols, ulong seed)
    {
        var values = new float[(long)rows * cols];
        NativeLlamaWeights.FillRandom("bench", values, cols, seed);
        var pattern = SparsityPattern.SemiStructured(2, 4);
        Parallel.For(0, rows, r =>
        {
            var row = values.AsSpan(r * cols, cols);
            var scores = new double[cols];
            for (var c = 0; c < cols; c++) scores[c] = Math.Abs(row[c]);
            PruningMask.Apply(row, scores, pattern);
        });
        return values;
    }

    /// <summary>One block's seven matrices in one storage type, in native memory, and a single-thread timer for a decode step through them.</summary>
    private sealed class Block : IDisposable
    {
        private readonly byte*[] _data;
        private readonly WeightMatrix[] _weights;
        private readonly float* _x, _y;
        private readonly int _repeats;
        private readonly VectorWidth _width;

        public Block(TensorType type, (int Rows, int Cols)[] matrices, float[][] values, VectorWidth width)
        {
            _width = width;
            var format = TensorFormats.Of(type);
            _data = new byte*[matrices.Length];
            var widest = matrices.Max(m => Math.Max(m.Rows, m.Cols));
            _x = (float*)NativeMemory.AlignedAlloc((nuint)widest * 4, 64);
            _y = (float*)NativeMemory.AlignedAlloc((nuint)widest * 4, 64);
            new Span<float>(_x, widest).Fill(0.5f);
            for (var i = 0; i < matrices.Length; i++)
            {
                var (rows, cols) = matrices[i];
                var packed = format switch
                {
                    // int8 2:4: the dense q8 codes and scales of the same group size, compressed.
                    { Sparse24: true, Bits: 8 } => Sparse24Codec.Encode(format, PackedTensor.QuantizeRtn(TensorFormats.Find(8, format.GroupSize, QuantScheme.Symmetric)!, values[i], rows, cols)),
                    { Sparse24: true } => Sparse24Codec.Encode(format, values[i], rows, cols),
                    _ => QuantizedBenchmarks.Pack(type, values[i], rows, cols),
                };
                _data[i] = (byte*)NativeMemory.AlignedAlloc((nuint)packed.Length, 64);
                packed.CopyTo(new Span<byte>(_data[i], packed.Length));
                Bytes += packed.Length;
            }
            _weights = matrices.Select((m, i) => new WeightMatrix(type, _data[i], m.Rows, m.Cols)).ToArray();
            _repeats = (int)Math.Clamp(500_000_000L / Bytes, 3, 20000);
            for (var i = 0; i < Math.Min(_repeats, 20); i++) Step();
        }

        public long Bytes { get; }

        /// <summary>Seconds per decode step through the block, averaged over a round of repeats.</summary>
        public double Time()
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < _repeats; i++) Step();
            return watch.Elapsed.TotalSeconds / _repeats;
        }

        private void Step()
        {
            foreach (var w in _weights) Linear.Rows(w, _x, w.Cols, _y, w.Rows, 0, w.Rows, 1, false, _width);
        }

        public void Dispose()
        {
            foreach (var p in _data) if (p is not null) NativeMemory.AlignedFree(p);
            NativeMemory.AlignedFree(_x);
            NativeMemory.AlignedFree(_y);
        }
    }
}
