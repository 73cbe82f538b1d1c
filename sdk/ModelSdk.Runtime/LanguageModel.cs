using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.ML.Tokenizers;
using ModelSdk.Architecture;
using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime.Backend;
using ModelSdk.Runtime.Generation;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Kernels;
using ModelSdk.Runtime.Llama;
using ModelSdk.Runtime.Sampling;
using ModelSdk.Runtime.Text;
using ModelSdk.Tensors;
using ModelSdk.Tokenizers;

namespace ModelSdk.Runtime;

/// <summary>
/// A Llama-family language model loaded from a <c>.msdk</c> artifact and run on the CPU or a CUDA GPU (<see cref="LoadOptions.Device"/>). The weights and tokenizer are
/// read-only and shared; every call gets its own session (KV cache and buffers, pooled), so any number of threads may
/// call <see cref="Generate"/>, <see cref="GenerateStreamingAsync"/> or <see cref="GetNextTokenLogits"/> at once and each
/// gets exactly what it would get alone. With more than one thread per model, callers take turns on the worker team
/// token by token.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private readonly ModelArtifact? _artifact;
    private readonly IInferenceBackend _backend;
    private readonly LlamaTokenizer _tokenizer;
    private readonly TokenText _tokenText;
    private readonly ConcurrentBag<IInferenceSession> _sessions = [];
    private readonly string? _path;

    /// <summary>Calls holding a session, plus one for the owner until <see cref="Dispose"/>: the memory goes when it reaches 0.</summary>
    private int _leases = 1;

    private int _disposed;

    private LanguageModel(ModelArtifact artifact, IInferenceBackend backend, LlamaTokenizer tokenizer, TokenText tokenText)
    {
        _artifact = artifact;
        _path = artifact.FilePath;
        Manifest = artifact.Manifest;
        _backend = backend;
        _tokenizer = tokenizer;
        _tokenText = tokenText;
    }

    /// <summary>The artifact's manifest: shape, tokenizer facts, provenance.</summary>
    public ArtifactManifest Manifest { get; }

    public LlamaConfig Config => Manifest.Config;

    /// <summary>Where the model runs: <see cref="ModelDevice.Cpu"/> or <see cref="ModelDevice.Cuda"/> (what <see cref="LoadOptions.Device"/> resolved to).</summary>
    public ModelDevice Device => _backend.Device;

    /// <summary>Threads a forward pass uses.</summary>
    internal int Threads => _backend.Threads;

    /// <summary>The CPU backend's transformer (tests, benchmarks, evaluation); a model on a GPU has none.</summary>
    internal LlamaTransformer Transformer => (_backend as CpuBackend)?.Transformer
        ?? throw new InvalidOperationException($"The model runs on {_backend.Device}; this needs the CPU backend.");

    internal IInferenceBackend Backend => _backend;

    /// <summary>Memory-maps the artifact (its hashes are verified), checks every tensor and builds the tokenizer.</summary>
    /// <remarks>
    /// On Linux with transparent huge pages available, the weights are copied once into huge-page backed memory (a
    /// ~20-30% faster decode, see <see cref="Memory.HugePages"/>; 61 MB for stories15M); elsewhere they are read in place
    /// from the mapping.
    /// </remarks>
    public static LanguageModel Load(string artifactPath, LoadOptions? options = null) => Load(artifactPath, options, null, HugePagesDefault);

    /// <summary>Huge-page weights where the OS has them.</summary>
    internal static bool HugePagesDefault => Memory.HugePages.Available;

    internal static LanguageModel Load(string artifactPath, LoadOptions? options, VectorWidth? width, bool hugePages, Func<GpuDevice?>? gpu = null)
    {
        var threads = options?.Threads ?? Environment.ProcessorCount;
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(options), threads, "LoadOptions.Threads must be at least 1.");
        var device = options?.Device ?? ModelDevice.Auto;
        if (!Enum.IsDefined(device)) throw new ArgumentOutOfRangeException(nameof(options), device, "LoadOptions.Device must be Auto, Cpu or Cuda.");

        var gpuDevice = device == ModelDevice.Cpu ? null : OpenGpu(device, gpu, artifactPath);
        ModelArtifact artifact;
        try
        {
            artifact = ModelArtifact.Open(artifactPath);
        }
        catch
        {
            gpuDevice?.Dispose();
            throw;
        }
        LlamaWeights? weights = null;
        try
        {
            var manifest = artifact.Manifest;
            if (manifest.Architecture != "llama")
                throw new ModelSdkException(DiagnosticCodes.ArtifactVersionUnsupported,
                    $"The artifact's architecture is '{manifest.Architecture}'; this runtime runs 'llama'.", artifactPath);
            if (!TensorTypeExtensions.TryParse(manifest.WeightFormat, out var weightFormat) || weightFormat == TensorType.U8)
                throw new ModelSdkException(DiagnosticCodes.ArtifactVersionUnsupported,
                    $"The artifact's weight format is '{manifest.WeightFormat}'; this runtime runs " +
                    $"{string.Join(", ", TensorFormats.All.Where(f => f.Type != TensorType.U8).Select(f => $"'{f.Name}'"))}.", artifactPath);
            if (manifest.Tokenizer.VocabSize != manifest.Config.VocabSize)
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt,
                    $"The tokenizer has {manifest.Tokenizer.VocabSize} pieces but the model's vocabulary is {manifest.Config.VocabSize}.", artifactPath);

            var tokenizerBytes = artifact.GetBytes(manifest.Tokenizer.Blob).ToArray();
            var vocabulary = SentencePieceModel.Parse(tokenizerBytes, artifactPath);
            if (vocabulary.PieceCount != manifest.Config.VocabSize)
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt,
                    $"The embedded tokenizer has {vocabulary.PieceCount} pieces but the model's vocabulary is {manifest.Config.VocabSize}.", artifactPath);
            var tokenizer = LlamaTokenizers.Create(tokenizerBytes, artifactPath);

            IInferenceBackend backend;
            if (gpuDevice is not null)
            {
                // Uploaded once; the host copy is not needed afterwards (the mapping stays for the tokenizer).
                weights = new ArtifactLlamaWeights(artifact, copyToHugePages: false);
                var format = options?.GpuHalfPrecision == true || weightFormat == TensorType.F16 ? GpuWeightFormat.F16 : GpuWeightFormat.F32;
                try
                {
                    backend = new GpuBackend(gpuDevice, weights, format);
                }
                catch (NotSupportedException e)
                {
                    throw new ModelSdkException(DiagnosticCodes.ArtifactVersionUnsupported, e.Message, artifactPath, e);
                }
                weights.Dispose();
                weights = null;
            }
            else
            {
                weights = new ArtifactLlamaWeights(artifact, copyToHugePages: hugePages);
                backend = new CpuBackend(new LlamaTransformer(weights, threads, width));
            }
            return new LanguageModel(artifact, backend, tokenizer, new TokenText(vocabulary, manifest.Tokenizer.BosId));
        }
        catch
        {
            weights?.Dispose();
            gpuDevice?.Dispose();
            artifact.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The CUDA device for <see cref="ModelDevice.Auto"/> or <see cref="ModelDevice.Cuda"/>: null when Auto finds none;
    /// MSDK2005 when Cuda finds none, or when a device is present but fails to start (never a silent fallback).
    /// </summary>
    private static GpuDevice? OpenGpu(ModelDevice device, Func<GpuDevice?>? factory, string artifactPath)
    {
        GpuDevice? gpu;
        try
        {
            gpu = (factory ?? GpuDevice.TryCreateCuda)();
        }
        catch (Exception e) when (e is not ModelSdkException)
        {
            throw new ModelSdkException(DiagnosticCodes.CudaDeviceNotAvailable, $"A CUDA device is present but could not be started: {e.Message}", artifactPath, e);
        }
        if (gpu is null && device == ModelDevice.Cuda)
            throw new ModelSdkException(DiagnosticCodes.CudaDeviceNotAvailable,
                "Device = Cuda was requested, but no CUDA device was found (no NVIDIA driver, or it lists no GPU).", artifactPath);
        return gpu;
    }

    /// <summary>
    /// Throws MSDK2004 unless the artifact has exactly this shape and weight format — what a generated class checks on
    /// load, so an artifact from another Model item or build is refused with every difference listed.
    /// </summary>
    public void EnsureShape(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int contextLength, string weightFormat)
    {
        var c = Config;
        var differences = new List<string>();
        void Check<T>(string name, T expected, T actual)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual)) differences.Add($"{name}: expected {expected}, the artifact has {actual}");
        }
        Check("dim", dim, c.Dim);
        Check("hidden_dim", hiddenDim, c.HiddenDim);
        Check("n_layers", layers, c.Layers);
        Check("n_heads", heads, c.Heads);
        Check("n_kv_heads", kvHeads, c.KvHeads);
        Check("vocab_size", vocabSize, c.VocabSize);
        Check("seq_len", contextLength, c.ContextLength);
        Check("weight format", weightFormat, Manifest.WeightFormat);
        if (differences.Count > 0)
            throw new ModelSdkException(DiagnosticCodes.ArtifactShapeMismatch,
                $"The artifact does not match the generated class: {string.Join("; ", differences)}.", _path);
    }

    /// <summary>SentencePiece token ids of <paramref name="text"/>, with BOS first when <paramref name="addBos"/>.</summary>
    public int[] Tokenize(string text, bool addBos = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _tokenizer.EncodeToIds(text, addBeginningOfSentence: addBos, addEndOfSentence: false);
        // The empty string encodes to nothing, BOS included; run.c's encode still starts with BOS, and generation needs it.
        return addBos && (ids.Count == 0 || ids[0] != Manifest.Tokenizer.BosId) ? [Manifest.Tokenizer.BosId, .. ids] : ids.ToArray();
    }

    /// <summary>
    /// The text of a token sequence as generation prints it: BOS/EOS print nothing, the piece after BOS loses its leading
    /// space, byte pieces are joined into UTF-8 characters (an incomplete one at the end becomes U+FFFD).
    /// </summary>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        var text = new TextAccumulator(_tokenText, [], tokens.Length);
        var previous = -1;
        foreach (var token in tokens)
        {
            CheckToken(token);
            text.Append(previous, token);
            previous = token;
        }
        text.Finish();
        return text.Text.ToString();
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> (as given: add BOS yourself) through the model and returns the logits that predict
    /// the token after the last one.
    /// </summary>
    public float[] GetNextTokenLogits(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        if (tokens.Length > Config.ContextLength)
            throw new ModelSdkException(DiagnosticCodes.PromptTooLong,
                $"{tokens.Length} tokens do not fit the model's context of {Config.ContextLength}.", _path);
        foreach (var token in tokens) CheckToken(token);
        var session = RentSession();
        try
        {
            session.Prefill(tokens, 0, computeLogits: true, CancellationToken.None);
            return session.Logits().ToArray();
        }
        finally
        {
            ReturnSession(session);
        }
    }

    /// <summary>Generates a continuation of <paramref name="prompt"/> and returns it (the prompt not included).</summary>
    public string Generate(string prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        options ??= new GenerationOptions();
        options.Validate();
        var tokens = PromptTokens(prompt);
        var session = RentSession();
        try
        {
            var generator = CreateGenerator(session, tokens, options);
            var text = new TextAccumulator(_tokenText, options.StopSequences, Math.Min(options.MaxTokens, Config.ContextLength));
            while (generator.TryNext(ct, out var token))
            {
                text.Append(generator.Previous, token);
                if (text.Stopped) break;
            }
            text.Finish();
            return text.Text.ToString();
        }
        finally
        {
            ReturnSession(session);
        }
    }

    /// <summary>
    /// Generates a continuation of <paramref name="prompt"/> piece by piece, on a thread-pool thread. Cancelling
    /// <paramref name="ct"/> (or the token given to <c>WithCancellation</c>) stops it before the next token with an
    /// <see cref="OperationCanceledException"/>. Invalid options or a too long prompt surface on the first MoveNextAsync.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateStreamingAsync(string prompt, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        options ??= new GenerationOptions();
        options.Validate();
        var tokens = PromptTokens(prompt);
        ct.ThrowIfCancellationRequested();
        // Compute off the caller's context (a UI thread, a request thread): the rest of this iterator runs on the thread pool.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

        var session = RentSession();
        try
        {
            var generator = CreateGenerator(session, tokens, options);
            var text = new TextAccumulator(_tokenText, options.StopSequences, Math.Min(options.MaxTokens, Config.ContextLength));
            while (generator.TryNext(ct, out var token))
            {
                text.Append(generator.Previous, token);
                var ready = text.TakeReady(final: false);
                if (!ready.IsEmpty) yield return AsString(ready, token);
                if (text.Stopped) yield break;
                ct.ThrowIfCancellationRequested();
            }
            text.Finish();
            var rest = text.TakeReady(final: true);
            if (!rest.IsEmpty) yield return rest.ToString();
        }
        finally
        {
            ReturnSession(session);
        }
    }

    /// <summary>
    /// Generates token ids after <paramref name="promptTokens"/> (as given: add BOS yourself), lazily; the ending BOS/EOS is
    /// not returned. Stop sequences, being text, do not apply here.
    /// </summary>
    public IEnumerable<int> GenerateTokens(int[] promptTokens, GenerationOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        options ??= new GenerationOptions();
        options.Validate();
        CheckPrompt(promptTokens);
        return GenerateTokensIterator((int[])promptTokens.Clone(), options, ct);
    }

    /// <inheritdoc cref="GenerateTokens(int[], GenerationOptions?, CancellationToken)"/>
    public IEnumerable<int> GenerateTokens(ReadOnlySpan<int> promptTokens, GenerationOptions? options = null, CancellationToken ct = default)
        => GenerateTokens(promptTokens.ToArray(), options, ct);

    private IEnumerable<int> GenerateTokensIterator(int[] prompt, GenerationOptions options, CancellationToken ct)
    {
        var session = RentSession();
        try
        {
            var generator = CreateGenerator(session, prompt, options);
            while (generator.TryNext(ct, out var token)) yield return token;
        }
        finally
        {
            ReturnSession(session);
        }
    }

    private TokenGenerator CreateGenerator(IInferenceSession session, int[] prompt, GenerationOptions options)
    {
        var seed = options.Seed ?? (ulong)DateTime.UtcNow.Ticks;
        var sampler = new Sampler(Config.VocabSize, options.Temperature, options.TopP, seed, _backend.Width);
        return new TokenGenerator(session, prompt, sampler, options.MaxTokens, Manifest.Tokenizer.BosId, Manifest.Tokenizer.EosId);
    }

    private int[] PromptTokens(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokens = Tokenize(prompt, addBos: true);
        CheckPrompt(tokens);
        return tokens;
    }

    private void CheckPrompt(int[] tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("The prompt needs at least one token (BOS).", nameof(tokens));
        if (tokens.Length >= Config.ContextLength)
            throw new ModelSdkException(DiagnosticCodes.PromptTooLong,
                $"The prompt has {tokens.Length} tokens (BOS included); the model's context holds {Config.ContextLength}, so it must have at most {Config.ContextLength - 1}.",
                _path);
        foreach (var token in tokens) CheckToken(token);
    }

    private void CheckToken(int token)
    {
        if ((uint)token >= (uint)Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids are 0..{Config.VocabSize - 1}.");
    }

    /// <summary>The chunk as a string, reusing the token's precomputed string when the chunk is exactly that piece.</summary>
    private string AsString(ReadOnlySpan<char> chunk, int token)
        => _tokenText.String(token) is { } piece && chunk.SequenceEqual(piece) ? piece : chunk.ToString();

    private IInferenceSession RentSession()
    {
        for (var leases = Volatile.Read(ref _leases); ; )
        {
            ObjectDisposedException.ThrowIf(leases == 0 || Volatile.Read(ref _disposed) != 0, this);
            var seen = Interlocked.CompareExchange(ref _leases, leases + 1, leases);
            if (seen == leases) break;
            leases = seen;
        }
        try
        {
            return _sessions.TryTake(out var session) ? session : _backend.CreateSession();
        }
        catch
        {
            ReleaseLease();
            throw;
        }
    }

    private void ReturnSession(IInferenceSession session)
    {
        if (Volatile.Read(ref _disposed) != 0 || _sessions.Count >= Math.Max(2, Environment.ProcessorCount)) session.Dispose();
        else _sessions.Add(session);
        ReleaseLease();
    }

    private void ReleaseLease()
    {
        if (Interlocked.Decrement(ref _leases) != 0) return;
        while (_sessions.TryTake(out var session)) session.Dispose();
        _backend.Dispose();
        _artifact?.Dispose();
    }

    /// <summary>
    /// Releases the worker threads, the sessions and the memory mapping. Safe while calls are running: new calls throw
    /// <see cref="ObjectDisposedException"/>, calls in flight finish normally, and the memory is released when the last one
    /// returns (a token enumeration left undisposed holds it until it is disposed).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ReleaseLease();
    }
}
