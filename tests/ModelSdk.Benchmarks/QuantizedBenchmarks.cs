using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelSdk.Architecture;
using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Quantization;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tensors;

namespace ModelSdk.Benchmarks;

/// <summary>
/// Decode speed per weight format (<c>--formats</c>): single-thread fused dequantize-matvec GB/s per format and width,
/// stories15M compressed by each RTN pass, and the TinyLlama-1.1B shape with random weights quantized in memory, at 1
/// and N threads, each with the memory read bandwidth measured in the same run.
/// </summary>
internal static unsafe class QuantizedBenchmarks
{
    /// <summary>The formats measured, with the pass that produces each (stories15M) — group 32 as in the reference table.</summary>
    private static readonly (TensorType Type, string Quantize, (string, string)[] Options)[] Formats =
    [
        (TensorType.F32, "none", []),
        (TensorType.F16, "f16", []),
        (TensorType.Q8G32, "rtn-int8", []),
        (TensorType.Q4G32Sym, "rtn-int4", []),
        (TensorType.Q4G32Asym, "rtn-int4", [("Symmetric", "false")]),
        (TensorType.Q4G128Sym, "rtn-int4", [("GroupSize", "128")]),
        // W8A8 (int8 activations per token): smoothing changes the values, not the speed, so the benchmark needs no calibration text.
        (TensorType.Q8Row, "smoothquant-w8a8", [("SmoothInputs", "none")]),
    ];

    /// <summary>Measures every format, or those <paramref name="only"/> names (<c>--only</c>, manifest names, e.g. <c>f32,q8_g32,q8_row</c>).</summary>
    public static int Run(int maxThreads, bool tinyLlama, int tinyTokens, string repo, IReadOnlyCollection<string>? only = null)
    {
        var selected = Formats;
        if (only is { Count: > 0 })
        {
            selected = Formats.Where(f => only.Contains(f.Type.ToManifestName())).ToArray();
            if (selected.Length != only.Count)
            {
                Console.Error.WriteLine($"--only: unknown format in '{string.Join(",", only)}'; the formats are {string.Join(", ", Formats.Select(f => f.Type.ToManifestName()))}.");
                return 2;
            }
        }
        int[] threadCounts = maxThreads == 1 ? [1] : [1, maxThreads];
        var rows = new List<string[]>();
        rows.AddRange(KernelRows(selected));
        var bandwidth = new Dictionary<int, double>();
        foreach (var t in threadCounts)
        {
            bandwidth[t] = MemoryBandwidth.Read(t);
            rows.Add(["memory read (sum over 1 GiB)", $"{t}", "", $"{bandwidth[t] / 1e9:F1} GB/s", "", ""]);
        }

        var models = Path.GetFullPath(Path.Combine(repo, "..", "shared", "models"));
        var temp = Directory.CreateTempSubdirectory("modelsdk-bench-formats-");
        try
        {
            foreach (var (type, quantize, options) in selected)
            {
                var artifact = Path.Combine(temp.FullName, $"stories15M-{type.ToManifestName()}.msdk");
                var passes = PassRegistry.Create(quantize, new PassOptions(options.Select(o => new KeyValuePair<string, string>(o.Item1, o.Item2))));
                ModelCompiler.Compile(ModelCompiler.Plan(new CompileRequest(Path.Combine(models, "stories15M.bin"), Path.Combine(models, "tokenizer.model"), "0.1.0")
                { Passes = passes }), artifact);
                foreach (var t in threadCounts)
                {
                    using var model = LanguageModel.Load(artifact, new LoadOptions { Threads = t });
                    var bytes = model.Transformer.Weights.BytesPerToken;
                    Stories.Decode(model);
                    var decode = Enumerable.Range(0, 5).Select(_ => Stories.Decode(model)).Max();
                    rows.Add(["stories15M decode (256 positions, greedy)", $"{t}", type.ToManifestName(), $"{decode:F0} tok/s",
                        $"{bytes * decode / 1e9:F1}", $"{bytes * decode / bandwidth[t]:F2}"]);
                }
            }
        }
        finally
        {
            temp.Delete(recursive: true);
        }

        if (tinyLlama)
        {
            var config = TinyLlama.Shape;
            foreach (var (type, _, _) in selected)
            {
                var watch = Stopwatch.StartNew();
                using LlamaWeights weights = type == TensorType.F32 ? NativeLlamaWeights.Random(config, seed: 42) : new PackedRandomWeights(config, type, seed: 42);
                Console.Error.WriteLine($"TinyLlama-1.1B shape, {type.ToManifestName()}: {weights.BytesPerToken / 1e9:F2} GB per token, made in {watch.Elapsed.TotalSeconds:F1} s");
                foreach (var t in threadCounts)
                {
                    using var transformer = new LlamaTransformer(weights, t, ownsWeights: false);
                    var tokS = Enumerable.Range(0, 2).Select(_ => TinyLlama.Decode(transformer, tinyTokens)).Max();
                    rows.Add([$"TinyLlama-1.1B shape decode (random weights, {tinyTokens} tokens)", $"{t}", type.ToManifestName(), $"{tokS:F2} tok/s",
                        $"{weights.BytesPerToken * tokS / 1e9:F1}", $"{weights.BytesPerToken * tokS / bandwidth[t]:F2}"]);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| measurement | threads | format | result | weights GB/s | ratio to read bandwidth |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine($"| {string.Join(" | ", row)} |");
        Console.WriteLine();
        Console.WriteLine("weights GB/s = bytes of weights one decode step reads (packed: codes + scales) x tok/s; best of several runs.");
        return 0;
    }

    /// <summary>Single-thread fused dequantize-matvec throughput (weight bytes read per second) for each format and width.</summary>
    private static List<string[]> KernelRows((TensorType Type, string Quantize, (string, string)[] Options)[] formats)
    {
        var table = new List<string[]>();
        (int Rows, int Cols)[] shapes = [(32000, 288), (5632, 2048)];
        foreach (var (rows, cols) in shapes)
        foreach (var (type, _, _) in formats)
        {
            var bytes = Pack(type, RandomValues(rows, cols, (ulong)cols), rows, cols);
            var data = (byte*)NativeMemory.AlignedAlloc((nuint)bytes.Length, 64);
            var x = (float*)NativeMemory.AlignedAlloc((nuint)(cols * 4), 64);
            var y = (float*)NativeMemory.AlignedAlloc((nuint)(rows * 4), 64);
            try
            {
                bytes.CopyTo(new Span<byte>(data, bytes.Length));
                new Span<float>(x, cols).Fill(0.5f);
                var w = new WeightMatrix(type, data, rows, cols);
                var repeats = (int)Math.Clamp(2_000_000_000L / bytes.Length, 3, 20000);
                var results = new List<string>();
                // At V512, int4 and W8A8 each have a 512-bit and an AVX2 kernel: measure both (the default is marked).
                var format = TensorFormats.Of(type);
                var twoKernels = format.Bits == 4 || format.Int8Activations;
                var variants = VectorWidths.Accelerated.Where(v => v is VectorWidth.V512 or VectorWidth.V256)
                    .SelectMany(v => v == VectorWidth.V512 && twoKernels ? new[] { (v, true), (v, false) } : [(v, false)]);
                foreach (var (width, uses512) in variants)
                {
                    QuantizedMatVec.Int4Uses512 = format.Bits == 4 && uses512;
                    Int8MatVec.Uses512 = format.Int8Activations && uses512;
                    for (var i = 0; i < Math.Min(repeats, 20); i++) QuantizedMatVec.Rows(w, x, y, 0, rows, false, width);
                    var best = double.MaxValue;
                    for (var round = 0; round < 3; round++)
                    {
                        var watch = Stopwatch.StartNew();
                        for (var i = 0; i < repeats; i++) QuantizedMatVec.Rows(w, x, y, 0, rows, false, width);
                        best = Math.Min(best, watch.Elapsed.TotalSeconds / repeats);
                    }
                    var label = twoKernels && width == VectorWidth.V512
                        ? $"V512 ({(uses512 ? "512-bit" : "AVX2")} kernel{(uses512 ? "" : ", default")})"
                        : width.ToString();
                    results.Add($"{label} {bytes.Length / best / 1e9:F1} GB/s = {(double)rows * cols / best / 1e9:F1} Gweights/s");
                }
                QuantizedMatVec.Int4Uses512 = false;
                Int8MatVec.Uses512 = false;
                table.Add([$"fused matvec {rows}x{cols} ({bytes.Length / 1e6:F1} MB)", "1", type.ToManifestName(), string.Join("; ", results), "", ""]);
            }
            finally
            {
                NativeMemory.AlignedFree(data);
                NativeMemory.AlignedFree(x);
                NativeMemory.AlignedFree(y);
            }
        }
        return table;
    }

    /// <summary>
    /// <c>--int4-steps</c>: the AVX2 int4 kernel at 1, 2 and 4 rows per step (4 rows also with prefetching) and the int8
    /// kernel at 1 and 4, single thread, on TinyLlama's 5632×2048 matrix, cached (the same copy again) and from memory (a copy
    /// not read for 96 MB). The variants run alternately, round after round, and each keeps its fastest round, so a shared
    /// machine's load disturbs them alike; the ratios to the 1-row step are the result.
    /// </summary>
    public static int Int4Steps(int rounds)
    {
        const int rows = 5632, cols = 2048;
        const long coldBytes = 96L << 20; // each cold unit reads a different copy: 96 MB of copies is 3x the 32 MB L3
        var values = RandomValues(rows, cols, cols);
        var width = VectorWidths.Best;
        var variants = new List<(string Label, TensorType Type, int Step, int Prefetch)>();
        foreach (var type in new[] { TensorType.Q4G32Sym, TensorType.Q4G32Asym })
        {
            foreach (var step in new[] { 1, 2, 4 }) variants.Add(($"{type.ToManifestName()}, {step} row(s) per step", type, step, 0));
            foreach (var ahead in new[] { 8, 16 }) variants.Add(($"{type.ToManifestName()}, 4 rows per step, prefetch {ahead} rows ahead", type, 4, ahead));
        }
        variants.Add(($"{TensorType.Q8G32.ToManifestName()}, 1 row per step", TensorType.Q8G32, 1, 0));
        variants.Add(($"{TensorType.Q8G32.ToManifestName()}, 4 rows per step, prefetch 8 rows ahead", TensorType.Q8G32, 4, 8));
        var copies = new Dictionary<TensorType, IntPtr[]>();
        var sizes = new Dictionary<TensorType, int>();
        var x = (float*)NativeMemory.AlignedAlloc(cols * 4, 64);
        var y = (float*)NativeMemory.AlignedAlloc(rows * 4, 64);
        try
        {
            foreach (var type in variants.Select(v => v.Type).Distinct())
            {
                var bytes = Pack(type, values, rows, cols);
                var count = (int)Math.Max(2, coldBytes / bytes.Length);
                copies[type] = new IntPtr[count];
                sizes[type] = bytes.Length;
                for (var c = 0; c < count; c++)
                {
                    var data = (byte*)NativeMemory.AlignedAlloc((nuint)bytes.Length, 64);
                    bytes.CopyTo(new Span<byte>(data, bytes.Length));
                    copies[type][c] = (IntPtr)data;
                }
            }
            var random = new Random(7);
            for (var i = 0; i < cols; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
            var hot = new double[variants.Count];
            var cold = new double[variants.Count];
            Array.Fill(hot, double.MaxValue);
            Array.Fill(cold, double.MaxValue);
            const int repeats = 2; // short timed units (about 1 ms): under load some land in one undisturbed time slice
            var next = 0;
            for (var round = 0; round < rounds; round++)
                for (var v = 0; v < variants.Count; v++)
                {
                    var (_, type, step, prefetch) = variants[v];
                    QuantizedMatVec.RowsPerStep = step;
                    QuantizedMatVec.PrefetchRows = prefetch;
                    var set = copies[type];
                    var w = new WeightMatrix(type, (void*)set[0], rows, cols);
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < repeats; i++) QuantizedMatVec.Rows(w, x, y, 0, rows, false, width);
                    hot[v] = Math.Min(hot[v], watch.Elapsed.TotalSeconds / repeats);
                    // Cold: a copy not touched for the last ~96 MB of reads, so its bytes come from memory.
                    next = (next + 1) % set.Length;
                    w = new WeightMatrix(type, (void*)set[next == 0 ? 1 : next], rows, cols);
                    watch.Restart();
                    QuantizedMatVec.Rows(w, x, y, 0, rows, false, width);
                    cold[v] = Math.Min(cold[v], watch.Elapsed.TotalSeconds);
                }
            Console.WriteLine($"| kernel ({rows}x{cols}, 1 thread, {width}, fastest of {rounds} alternating rounds) | Gweights/s, cached | time vs same format at 1 row per step | Gweights/s from memory | GB/s from memory |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            for (var v = 0; v < variants.Count; v++)
            {
                var baseline = variants.FindIndex(u => u.Type == variants[v].Type);
                var bytes = sizes[variants[v].Type];
                Console.WriteLine($"| {variants[v].Label} | {(double)rows * cols / hot[v] / 1e9:F1} | {hot[v] / hot[baseline]:F3} | {(double)rows * cols / cold[v] / 1e9:F1} | {bytes / cold[v] / 1e9:F1} |");
            }
            return 0;
        }
        finally
        {
            QuantizedMatVec.RowsPerStep = 4;
            QuantizedMatVec.PrefetchRows = 8;
            foreach (var set in copies.Values)
                foreach (var data in set) NativeMemory.AlignedFree((void*)data);
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(y);
        }
    }

    /// <summary>
    /// Decode at the TinyLlama-1.1B shape in int4 (q4_g32_sym), variants of the int4 kernel alternating round by round on
    /// the same weights, 1 and 2 threads: best tok/s of <paramref name="rounds"/> each, and the read bandwidth of the run.
    /// </summary>
    public static int Int4Decode(int rounds, int tokens)
    {
        using LlamaWeights weights = new PackedRandomWeights(TinyLlama.Shape, TensorType.Q4G32Sym, seed: 42);
        (string Label, int Prefetch)[] variants = [("no prefetch", 0), ("prefetch 8 rows ahead (default)", 8), ("prefetch 16 rows ahead", 16)];
        int[] threads = [1, 2];
        var bandwidth = threads.ToDictionary(t => t, t => MemoryBandwidth.Read(t));
        var best = new double[variants.Length, threads.Length];
        try
        {
            for (var round = 0; round < rounds; round++)
                for (var ti = 0; ti < threads.Length; ti++)
                {
                    using var transformer = new LlamaTransformer(weights, threads[ti], ownsWeights: false);
                    for (var v = 0; v < variants.Length; v++)
                    {
                        QuantizedMatVec.PrefetchRows = variants[v].Prefetch;
                        best[v, ti] = Math.Max(best[v, ti], TinyLlama.Decode(transformer, tokens));
                    }
                }
        }
        finally
        {
            QuantizedMatVec.PrefetchRows = 8;
        }
        Console.WriteLine($"| q4_g32_sym decode, TinyLlama-1.1B shape ({tokens} tokens, best of {rounds} alternating rounds) | threads | tok/s | weights GB/s | ratio to read bandwidth |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (var v = 0; v < variants.Length; v++)
            for (var ti = 0; ti < threads.Length; ti++)
                Console.WriteLine($"| {variants[v].Label} | {threads[ti]} | {best[v, ti]:F2} | {weights.BytesPerToken * best[v, ti] / 1e9:F1} | {weights.BytesPerToken * best[v, ti] / bandwidth[threads[ti]]:F2} |");
        foreach (var t in threads) Console.WriteLine($"memory read, {t} thread(s): {bandwidth[t] / 1e9:F1} GB/s");
        return 0;
    }

    private static float[] RandomValues(int rows, int cols, ulong seed)
    {
        var values = new float[(long)rows * cols];
        NativeLlamaWeights.FillRandom("bench", values, cols, seed);
        return values;
    }

    /// <summary>A matrix's bytes in <paramref name="type"/> (RTN for packed types).</summary>
    internal static byte[] Pack(TensorType type, float[] values, int rows, int cols)
    {
        var format = TensorFormats.Of(type);
        if (format.IsPacked) return PackedTensor.QuantizeRtn(format, values, rows, cols).Data;
        if (type == TensorType.F32) return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var halves = new ushort[values.Length];
        Parallel.For(0, rows, r =>
        {
            for (var c = 0; c < cols; c++) halves[(long)r * cols + c] = HalfBits.FromFloat(values[(long)r * cols + c]);
        });
        return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
    }

    /// <summary>
    /// Random weights (<see cref="NativeLlamaWeights.FillRandom"/>'s values) stored in one format in a huge-page block, as
    /// a quantized artifact's weights are: each matrix is generated in fp32, quantized, and only its packed bytes kept.
    /// </summary>
    private sealed class PackedRandomWeights : LlamaWeights
    {
        private readonly List<nint> _blocks = [];

        public PackedRandomWeights(LlamaConfig config, TensorType type, ulong seed) : base(config)
        {
            int dim = config.Dim, kv = config.KvDim, hidden = config.HiddenDim;
            float* Matrix(string name, int rows, int cols)
            {
                var values = new float[(long)rows * cols];
                NativeLlamaWeights.FillRandom(name, values, cols, seed);
                var bytes = Pack(type, values, rows, cols);
                var block = (byte*)ModelSdk.Runtime.Memory.HugePages.Allocate((nuint)bytes.Length);
                _blocks.Add((nint)block);
                bytes.CopyTo(new Span<byte>(block, bytes.Length));
                return (float*)block;
            }
            LayerMatrix Layer(string name, int rows, int cols) => LayerMatrix.Dense(new WeightMatrix(type, Matrix(name, rows, cols), rows, cols));
            float* Norm(int length)
            {
                var block = (float*)ModelSdk.Runtime.Memory.HugePages.Allocate((nuint)(length * sizeof(float)));
                _blocks.Add((nint)block);
                new Span<float>(block, length).Fill(1f);
                return block;
            }
            TokenEmbedding = Matrix("tok_embeddings", config.VocabSize, dim);
            EmbeddingType = type;
            FinalNorm = Norm(dim);
            Classifier = Matrix("output", config.VocabSize, dim);
            ClassifierType = type;
            for (var l = 0; l < config.Layers; l++)
            {
                Layers[l] = new LayerWeights
                {
                    AttentionNorm = Norm(dim),
                    Wq = Layer($"layers.{l}.attention.wq", dim, dim),
                    Wk = Layer($"layers.{l}.attention.wk", kv, dim),
                    Wv = Layer($"layers.{l}.attention.wv", kv, dim),
                    Wo = Layer($"layers.{l}.attention.wo", dim, dim),
                    FfnNorm = Norm(dim),
                    W1 = Layer($"layers.{l}.feed_forward.w1", hidden, dim),
                    W2 = Layer($"layers.{l}.feed_forward.w2", dim, hidden),
                    W3 = Layer($"layers.{l}.feed_forward.w3", hidden, dim),
                };
            }
        }

        public override void Dispose()
        {
            foreach (var block in _blocks) ModelSdk.Runtime.Memory.HugePages.Free((void*)block);
            _blocks.Clear();
        }
    }
}
