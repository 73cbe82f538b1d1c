using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Import;

/// <summary>
/// Reads a llama2.c checkpoint (legacy "version 0": 7 int32 header fields, then float32 tensors in a fixed
/// order). The file is untrusted: the header is validated and the exact expected size, computed in checked
/// int64 arithmetic, must equal the file's length before anything is mapped.
/// </summary>
public static unsafe class Llama2CheckpointImporter
{
    private const int HeaderBytes = 7 * sizeof(int);

    public static LlamaConfig ReadConfig(string path)
    {
        if (!File.Exists(path))
            throw new ModelSdkException(DiagnosticCodes.ModelFileNotFound, "The model file does not exist.", path);
        var fileLength = FileLength.Of(path);
        var header = new byte[HeaderBytes];
        int read;
        using (var stream = File.OpenRead(path))
            read = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        return ParseHeader(header.AsSpan(0, read), fileLength, path);
    }

    /// <summary>
    /// The model shape in a checkpoint's first bytes (<paramref name="header"/>: up to 28 of them), checked against the
    /// file's length: MSDK1002 for a short or invalid header, MSDK1003 when the length is not exactly what it implies.
    /// </summary>
    public static LlamaConfig ParseHeader(ReadOnlySpan<byte> header, long fileLength, string? path)
    {
        if (header.Length < HeaderBytes || fileLength < HeaderBytes)
            throw new ModelSdkException(DiagnosticCodes.CheckpointHeaderInvalid,
                $"The file has {fileLength} bytes, fewer than the 28-byte llama2.c header.", path);
        Span<int> field = stackalloc int[7];
        for (var i = 0; i < field.Length; i++) field[i] = BinaryPrimitives.ReadInt32LittleEndian(header[(i * 4)..]);
        var vocab = field[5];
        var config = new LlamaConfig
        {
            Dim = field[0], HiddenDim = field[1], Layers = field[2], Heads = field[3], KvHeads = field[4],
            // A negative vocab_size marks an unshared classifier (llama2.c's export convention).
            VocabSize = vocab == int.MinValue ? 0 : Math.Abs(vocab), ContextLength = field[6],
            SharedClassifier = vocab > 0,
        };
        config.EnsureValid(path);

        var expected = ExpectedLength(config);
        if (expected != fileLength)
            throw new ModelSdkException(DiagnosticCodes.CheckpointSizeMismatch,
                $"The header describes a model of {expected} bytes (dim {config.Dim}, hidden {config.HiddenDim}, {config.Layers} layers, " +
                $"{config.Heads} heads, {config.KvHeads} kv heads, vocab {config.VocabSize}, seq_len {config.ContextLength}) but the file has {fileLength} bytes.",
                path);
        return config;
    }

    public static ImportedModel Import(string path)
    {
        var config = ReadConfig(path);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        var owner = new Mapping(map, view);

        var tensors = new List<ImportedTensor>();
        long at = HeaderBytes + view.PointerOffset;
        void Take(string name, params long[] shape)
        {
            long bytes = sizeof(float);
            foreach (var d in shape) bytes *= d;
            tensors.Add(new ImportedTensor(name, TensorType.F32, shape, TensorData.FromPointer(basePointer + at, bytes)));
            at += bytes;
        }
        // Per-layer tensors are stored layer-major per kind ([layers, ...]); split them so each layer's tensor is its own.
        void TakeLayers(Func<int, string> name, params long[] shape)
        {
            for (var layer = 0; layer < config.Layers; layer++) Take(name(layer), shape);
        }

        long dim = config.Dim, hidden = config.HiddenDim, kvDim = config.KvDim, vocab = config.VocabSize;
        Take(TensorNames.TokenEmbedding, vocab, dim);
        TakeLayers(TensorNames.AttentionNorm, dim);
        TakeLayers(TensorNames.Wq, dim, dim);
        TakeLayers(TensorNames.Wk, kvDim, dim);
        TakeLayers(TensorNames.Wv, kvDim, dim);
        TakeLayers(TensorNames.Wo, dim, dim);
        TakeLayers(TensorNames.FfnNorm, dim);
        TakeLayers(TensorNames.W1, hidden, dim);
        TakeLayers(TensorNames.W2, dim, hidden);
        TakeLayers(TensorNames.W3, hidden, dim);
        Take(TensorNames.FinalNorm, dim);
        at += 2L * config.ContextLength * (config.HeadSize / 2) * sizeof(float); // freq_cis_real/imag: RoPE is recomputed
        if (!config.SharedClassifier) Take(TensorNames.Classifier, vocab, dim);

        return new ImportedModel(config, tensors, owner);
    }

    /// <summary>The exact file length a header implies, in checked arithmetic (bounds in LlamaConfig keep it far from overflow).</summary>
    public static long ExpectedLength(LlamaConfig c)
    {
        checked
        {
            long dim = c.Dim, hidden = c.HiddenDim, layers = c.Layers, kvDim = c.KvDim, vocab = c.VocabSize;
            long floats = vocab * dim
                + layers * (dim + dim * dim + 2 * kvDim * dim + dim * dim + dim + 3 * hidden * dim)
                + dim
                + 2L * c.ContextLength * (c.HeadSize / 2)
                + (c.SharedClassifier ? 0 : vocab * dim);
            return HeaderBytes + floats * sizeof(float);
        }
    }

    private sealed class Mapping(MemoryMappedFile map, MemoryMappedViewAccessor view) : IDisposable
    {
        public void Dispose()
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            map.Dispose();
        }
    }
}
