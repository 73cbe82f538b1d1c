using System.Runtime.CompilerServices;
using ModelSdk.Architecture;
using ModelSdk.Compression.LinearAlgebra;

namespace ModelSdk.Compression.Calibration;

/// <summary>
/// The Llama block stack in fp32 over a batch of calibration sequences, one operation at a time, so that a pass can
/// look at (and change) the weights between operations: quantization passes capture the input of every linear layer
/// here and, in GPTQ's sequential mode, feed the rest of the layer through the weights they have already quantized.
/// The maths is llama2.c's forward (RMSNorm eps from the config, RoPE on interleaved pairs, causal attention with
/// grouped-query heads, SwiGLU), batched over all tokens of all sequences; each sequence starts at position 0.
/// Work is split by sequence over <see cref="Threads"/> threads; results do not depend on the thread count.
/// </summary>
public sealed unsafe class CalibrationForward
{
    private readonly int[] _offsets; // token offset of each sequence, plus the total at the end
    private readonly float[] _ropeCos, _ropeSin; // [position, headSize / 2]

    public CalibrationForward(LlamaConfig config, IReadOnlyList<int[]> sequences, int? threads = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("At least one calibration sequence is needed.", nameof(sequences));
        Config = config;
        Sequences = sequences;
        Threads = Math.Max(1, threads ?? Environment.ProcessorCount);
        CancellationToken = ct;
        _offsets = new int[sequences.Count + 1];
        var longest = 0;
        for (var s = 0; s < sequences.Count; s++)
        {
            var length = sequences[s].Length;
            if (length == 0 || length > config.ContextLength)
                throw new ArgumentException($"Calibration sequence {s} has {length} tokens; each needs 1..{config.ContextLength}.", nameof(sequences));
            foreach (var token in sequences[s])
                if ((uint)token >= (uint)config.VocabSize)
                    throw new ArgumentException($"Calibration sequence {s} holds token {token}, outside the vocabulary of {config.VocabSize}.", nameof(sequences));
            _offsets[s + 1] = checked(_offsets[s] + length);
            longest = Math.Max(longest, length);
        }
        var half = config.HeadSize / 2;
        _ropeCos = new float[longest * half];
        _ropeSin = new float[longest * half];
        for (var pos = 0; pos < longest; pos++)
        {
            for (var i = 0; i < half; i++)
            {
                // run.c: freq = 1 / theta^(head_dim / head_size) with head_dim = 2i, val = pos * freq, in float.
                var freq = 1.0f / MathF.Pow(config.RopeTheta, 2 * i / (float)config.HeadSize);
                var angle = pos * freq;
                _ropeCos[pos * half + i] = MathF.Cos(angle);
                _ropeSin[pos * half + i] = MathF.Sin(angle);
            }
        }
    }

    public LlamaConfig Config { get; }

    public IReadOnlyList<int[]> Sequences { get; }

    public int Threads { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Tokens in all sequences together: the row count of every <see cref="Activations"/> made here.</summary>
    public int Tokens => _offsets[^1];

    /// <summary>The same computation over the first <paramref name="count"/> sequences (whose activations are a prefix of these).</summary>
    public CalibrationForward Take(int count)
        => count >= Sequences.Count ? this : new CalibrationForward(Config, Sequences.Take(count).ToArray(), Threads, CancellationToken);

    /// <summary>Rows of the token embedding (vocab × dim) for every token.</summary>
    public Activations Embed(ReadOnlySpan<float> embedding)
    {
        var dim = Config.Dim;
        if (embedding.Length != (long)Config.VocabSize * dim) throw new ArgumentException("The embedding must be vocab × dim.", nameof(embedding));
        var x = new Activations(Tokens, dim);
        var t = 0;
        foreach (var sequence in Sequences)
            foreach (var token in sequence)
                embedding.Slice(token * dim, dim).CopyTo(x.Row(t++));
        return x;
    }

    /// <summary>
    /// One transformer block on the residual stream <paramref name="x"/>, in place. Before the linears that read an input
    /// are applied, <paramref name="observe"/> sees that input (<see cref="LinearInput"/>) and may replace those matrices in
    /// <paramref name="weights"/>: the forward then continues with the replacements (GPTQ's sequential mode).
    /// </summary>
    public void Layer(Activations x, LlamaLayerWeights weights, Action<LinearInput, Activations>? observe = null)
    {
        var c = Config;
        var a = RmsNorm(x, weights.AttentionNorm);
        observe?.Invoke(LinearInput.Attention, a);
        var q = Linear(a, weights.Wq, c.Dim);
        var k = Linear(a, weights.Wk, c.KvDim);
        var v = Linear(a, weights.Wv, c.KvDim);
        var o = Attention(q, k, v);
        observe?.Invoke(LinearInput.AttentionOutput, o);
        AddInPlace(x, Linear(o, weights.Wo, c.Dim));
        var f = RmsNorm(x, weights.FfnNorm);
        observe?.Invoke(LinearInput.Ffn, f);
        var hidden = SwiGlu(Linear(f, weights.W1, c.HiddenDim), Linear(f, weights.W3, c.HiddenDim));
        observe?.Invoke(LinearInput.FfnHidden, hidden);
        AddInPlace(x, Linear(hidden, weights.W2, c.Dim));
    }

    /// <summary>x / rms(x) · weight per token (llama2.c's rmsnorm).</summary>
    public Activations RmsNorm(Activations x, float[] weight)
    {
        CheckTokens(x);
        if (weight.Length != x.Width) throw new ArgumentException("The norm weight must have the activation width.", nameof(weight));
        var y = new Activations(x.Tokens, x.Width);
        var eps = Config.NormEps;
        ForEachSequence((start, end) =>
        {
            for (var t = start; t < end; t++)
            {
                var row = x.Row(t);
                float ss = 0;
                foreach (var v in row) ss += v * v;
                var scale = 1.0f / MathF.Sqrt(ss / row.Length + eps);
                var output = y.Row(t);
                for (var i = 0; i < row.Length; i++) output[i] = weight[i] * (scale * row[i]);
            }
        });
        return y;
    }

    /// <summary>y = W x per token; <paramref name="weight"/> is row-major outputs × inputs.</summary>
    public Activations Linear(Activations x, float[] weight, int outputs)
    {
        CheckTokens(x);
        var inputs = x.Width;
        if (weight.Length != (long)outputs * inputs) throw new ArgumentException($"The weight must be {outputs} × {inputs}.", nameof(weight));
        var transposed = Transpose(weight, outputs, inputs); // inputs × outputs: the kernel streams rows of it
        var y = new Activations(x.Tokens, outputs);
        ForEachSequence((start, end) =>
        {
            fixed (float* px = x.Data, pw = transposed, py = y.Data)
                Gemm.Multiply(px + (long)start * inputs, inputs, 1, pw, outputs, py + (long)start * outputs, outputs, end - start, outputs, inputs, accumulate: false);
        });
        return y;
    }

    /// <summary>
    /// Causal multi-head attention of each sequence on itself: RoPE on copies of q and k, softmax(q kᵀ / √head) v per
    /// head, kv heads shared by <c>Heads / KvHeads</c> query heads. Returns the concatenated head outputs (the input of wo).
    /// </summary>
    public Activations Attention(Activations q, Activations k, Activations v)
    {
        var c = Config;
        int dim = c.Dim, kvDim = c.KvDim, headSize = c.HeadSize, kvMul = c.Heads / c.KvHeads;
        if (q.Width != dim || k.Width != kvDim || v.Width != kvDim || q.Tokens != Tokens || k.Tokens != Tokens || v.Tokens != Tokens)
            throw new ArgumentException("q must be tokens × dim, k and v tokens × kv_dim.");
        var output = new Activations(Tokens, dim);
        var scale = 1.0f / MathF.Sqrt(headSize);
        ForEachSequence((start, end) =>
        {
            var length = end - start;
            var qr = new float[length * dim];
            var kt = new float[kvDim * length]; // rotated keys, transposed: [kv_dim, position]
            var scores = new float[length * length];
            q.Data.AsSpan(start * dim, length * dim).CopyTo(qr);
            for (var pos = 0; pos < length; pos++)
            {
                Rotate(qr.AsSpan(pos * dim, dim), pos, headSize);
                var key = k.Row(start + pos).ToArray();
                Rotate(key, pos, headSize);
                for (var i = 0; i < kvDim; i++) kt[i * length + pos] = key[i];
            }
            fixed (float* pq = qr, pk = kt, ps = scores, pv = v.Data, po = output.Data)
            {
                for (var h = 0; h < c.Heads; h++)
                {
                    var kvHead = h / kvMul;
                    // scores = Q_h K_hᵀ (all pairs; the causal mask is applied in the softmax)
                    Gemm.Multiply(pq + h * headSize, dim, 1, pk + (long)kvHead * headSize * length, length, ps, length, length, length, headSize, accumulate: false);
                    for (var t = 0; t < length; t++)
                    {
                        var row = scores.AsSpan(t * length, length);
                        var max = float.NegativeInfinity;
                        for (var u = 0; u <= t; u++) max = MathF.Max(max, row[u] *= scale);
                        float sum = 0;
                        for (var u = 0; u <= t; u++) sum += row[u] = MathF.Exp(row[u] - max);
                        var inverse = 1.0f / sum;
                        for (var u = 0; u <= t; u++) row[u] *= inverse;
                        row[(t + 1)..].Clear();
                    }
                    // out_h = P V_h
                    Gemm.Multiply(ps, length, 1, pv + (long)start * kvDim + kvHead * headSize, kvDim, po + (long)start * dim + h * headSize, dim,
                        length, headSize, length, accumulate: false);
                }
            }
        });
        return output;
    }

    /// <summary>silu(gate) · up, elementwise (the input of w2).</summary>
    public Activations SwiGlu(Activations gate, Activations up)
    {
        CheckTokens(gate);
        if (gate.Tokens != up.Tokens || gate.Width != up.Width) throw new ArgumentException("gate and up must have the same shape.");
        var y = new Activations(gate.Tokens, gate.Width);
        ForEachSequence((start, end) =>
        {
            var width = gate.Width;
            for (long i = (long)start * width; i < (long)end * width; i++)
            {
                var g = gate.Data[i];
                y.Data[i] = g / (1.0f + MathF.Exp(-g)) * up.Data[i];
            }
        });
        return y;
    }

    /// <summary>x += y.</summary>
    public void AddInPlace(Activations x, Activations y)
    {
        CheckTokens(x);
        if (x.Tokens != y.Tokens || x.Width != y.Width) throw new ArgumentException("x and y must have the same shape.");
        ForEachSequence((start, end) =>
        {
            var xs = x.Data.AsSpan(start * x.Width, (end - start) * x.Width);
            var ys = y.Data.AsSpan(start * x.Width, (end - start) * x.Width);
            for (var i = 0; i < xs.Length; i++) xs[i] += ys[i];
        });
    }

    /// <summary>
    /// Σ over tokens of x xᵀ (Width × Width, full, double). Each sequence's product is formed in fp32 (at most
    /// ContextLength terms) and added in double, in a fixed order: the result does not depend on the thread count.
    /// </summary>
    public double[] Gram(Activations x)
    {
        CheckTokens(x);
        var n = x.Width;
        var sequences = Sequences.Count;
        var slices = Math.Min(8, sequences);
        var partial = new double[slices][];
        Parallel.For(0, slices, Options(), slice =>
        {
            var sum = new double[n * n];
            var chunk = new float[n * n];
            for (var s = slice * sequences / slices; s < (slice + 1) * sequences / slices; s++)
            {
                int start = _offsets[s], length = _offsets[s + 1] - _offsets[s];
                fixed (float* px = x.Data, pc = chunk)
                {
                    var block = px + (long)start * n;
                    // C = Xᵀ X: A(i, t) = X[t, i] (row stride 1, column stride n), B = X (t × n).
                    Gemm.Multiply(block, 1, n, block, n, pc, n, n, n, length, accumulate: false, upperOnly: true);
                }
                for (var i = 0; i < n; i++)
                    for (var j = i; j < n; j++) sum[i * n + j] += chunk[i * n + j];
            }
            partial[slice] = sum;
        });
        var gram = partial[0];
        for (var slice = 1; slice < slices; slice++)
            for (var i = 0; i < gram.Length; i++) gram[i] += partial[slice][i];
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++) gram[j * n + i] = gram[i * n + j];
        return gram;
    }

    /// <summary>
    /// Σ over tokens of a bᵀ... precisely C[i, j] = Σ_t a[t, i] · b[t, j] (a.Width × b.Width, double), formed per sequence
    /// in fp32 and added in double in a fixed order, like <see cref="Gram"/>.
    /// </summary>
    public double[] CrossGram(Activations a, Activations b)
    {
        CheckTokens(a);
        CheckTokens(b);
        int n = a.Width, m = b.Width;
        var sequences = Sequences.Count;
        var slices = Math.Min(8, sequences);
        var partial = new double[slices][];
        Parallel.For(0, slices, Options(), slice =>
        {
            var sum = new double[n * m];
            var chunk = new float[n * m];
            for (var s = slice * sequences / slices; s < (slice + 1) * sequences / slices; s++)
            {
                int start = _offsets[s], length = _offsets[s + 1] - _offsets[s];
                fixed (float* pa = a.Data, pb = b.Data, pc = chunk)
                    Gemm.Multiply(pa + (long)start * n, 1, n, pb + (long)start * m, m, pc, m, n, m, length, accumulate: false);
                for (var i = 0; i < sum.Length; i++) sum[i] += chunk[i];
            }
            partial[slice] = sum;
        });
        var result = partial[0];
        for (var slice = 1; slice < slices; slice++)
            for (var i = 0; i < result.Length; i++) result[i] += partial[slice][i];
        return result;
    }

    /// <summary>Mean |x| over tokens, per channel (AWQ's activation salience).</summary>
    public double[] MeanAbs(Activations x)
    {
        var sum = new double[x.Width];
        for (var t = 0; t < x.Tokens; t++)
        {
            var row = x.Row(t);
            for (var i = 0; i < row.Length; i++) sum[i] += Math.Abs(row[i]);
        }
        for (var i = 0; i < sum.Length; i++) sum[i] /= Math.Max(1, x.Tokens);
        return sum;
    }

    /// <summary>Max |x| over tokens, per channel (SmoothQuant's activation range).</summary>
    public double[] MaxAbs(Activations x)
    {
        var max = new double[x.Width];
        for (var t = 0; t < x.Tokens; t++)
        {
            var row = x.Row(t);
            for (var i = 0; i < row.Length; i++) max[i] = Math.Max(max[i], Math.Abs(row[i]));
        }
        return max;
    }

    /// <summary>Runs <paramref name="body"/>(firstToken, endToken) once per sequence, on up to <see cref="Threads"/> threads.</summary>
    public void ForEachSequence(Action<int, int> body)
        => Parallel.For(0, Sequences.Count, Options(), s => body(_offsets[s], _offsets[s + 1]));

    /// <summary>Token range [start, end) of sequence <paramref name="s"/>.</summary>
    public (int Start, int End) SequenceRange(int s) => (_offsets[s], _offsets[s + 1]);

    private void CheckTokens(Activations x)
    {
        if (x.Tokens != Tokens)
            throw new ArgumentException($"The activations have {x.Tokens} rows; this batch of sequences has {Tokens} tokens.", nameof(x));
    }

    private ParallelOptions Options() => new() { MaxDegreeOfParallelism = Threads, CancellationToken = CancellationToken };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Rotate(Span<float> vector, int pos, int headSize)
    {
        var half = headSize / 2;
        var cos = _ropeCos.AsSpan(pos * half, half);
        var sin = _ropeSin.AsSpan(pos * half, half);
        for (var i = 0; i < vector.Length; i += 2)
        {
            var f = (i % headSize) / 2;
            float v0 = vector[i], v1 = vector[i + 1];
            vector[i] = v0 * cos[f] - v1 * sin[f];
            vector[i + 1] = v0 * sin[f] + v1 * cos[f];
        }
    }

    internal static float[] Transpose(float[] matrix, int rows, int columns)
    {
        var result = new float[matrix.Length];
        for (var r = 0; r < rows; r++)
            for (var col = 0; col < columns; col++)
                result[col * rows + r] = matrix[r * columns + col];
        return result;
    }
}
