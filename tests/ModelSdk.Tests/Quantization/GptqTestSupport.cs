using ModelSdk.Architecture;
using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.Passes;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Quantization;

/// <summary>Small random models, calibration sequences and correlated activations for the GPTQ and AWQ tests.</summary>
internal static class GptqTestSupport
{
    /// <summary>GQA (4 heads over 2 kv heads), rows a multiple of 32 so every group size 32 fits; a shared classifier.</summary>
    public static readonly LlamaConfig Tiny = new()
    {
        Dim = 64, HiddenDim = 128, Layers = 2, Heads = 4, KvHeads = 2, VocabSize = 96, ContextLength = 24, SharedClassifier = true,
    };

    /// <summary>
    /// A model with the runtime's random weights (<see cref="NativeLlamaWeights.FillRandom"/>, so the runtime can build the
    /// same one) but norm weights drawn from [0.5, 1.5] when <paramref name="randomNorms"/>, as fp32 tensors in a working model.
    /// </summary>
    public static WorkingModel RandomModel(LlamaConfig c, ulong seed, bool randomNorms = true)
    {
        var tensors = new List<WorkingTensor>();
        var random = new Random((int)seed);
        void Add(string name, long fanIn, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (n, d) => n * d)];
            if (fanIn == 0 && randomNorms)
                for (var i = 0; i < values.Length; i++) values[i] = 0.5f + (float)random.NextDouble();
            else NativeLlamaWeights.FillRandom(name, values, fanIn, seed);
            tensors.Add(new WorkingTensor(name, TensorType.F32, shape, TensorData.FromFloats(values)));
        }
        long dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        Add(TensorNames.TokenEmbedding, dim, c.VocabSize, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.AttentionNorm(l), 0, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.Wq(l), dim, dim, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.Wk(l), dim, kv, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.Wv(l), dim, kv, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.Wo(l), dim, dim, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.FfnNorm(l), 0, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.W1(l), dim, hidden, dim);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.W2(l), hidden, dim, hidden);
        for (var l = 0; l < c.Layers; l++) Add(TensorNames.W3(l), dim, hidden, dim);
        Add(TensorNames.FinalNorm, 0, dim);
        if (!c.SharedClassifier) Add(TensorNames.Classifier, dim, c.VocabSize, dim);
        return new WorkingModel(c, tensors);
    }

    /// <summary>Sequences of random tokens, each starting with BOS (1), of lengths between half and all of the context.</summary>
    public static IReadOnlyList<int[]> RandomSequences(LlamaConfig c, int count, int seed)
    {
        var random = new Random(seed);
        var sequences = new List<int[]>();
        for (var s = 0; s < count; s++)
        {
            var sequence = new int[random.Next(c.ContextLength / 2, c.ContextLength + 1)];
            sequence[0] = 1;
            for (var i = 1; i < sequence.Length; i++) sequence[i] = random.Next(c.VocabSize);
            sequences.Add(sequence);
        }
        return sequences;
    }

    public static PassContext Context(IReadOnlyList<int[]> sequences, List<string>? log = null)
        => new(() => new CalibrationText(sequences), log: log is null ? null : log.Add);

    /// <summary>Standard normal samples (Box–Muller), deterministic.</summary>
    public static float[] Gaussian(int count, int seed, double scale = 1)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>
    /// <paramref name="tokens"/> × <paramref name="width"/> activations with correlated channels of very different
    /// magnitudes (as real LLM activations have): x = diag(m) · A · z with a random mixing A and m spanning 0.1..10.
    /// </summary>
    public static Activations CorrelatedActivations(int tokens, int width, int seed)
    {
        var z = Gaussian(tokens * width, seed);
        var mix = Gaussian(width * width, seed + 1, 3 / Math.Sqrt(width));
        var magnitude = new double[width];
        var random = new Random(seed + 2);
        for (var i = 0; i < width; i++) magnitude[i] = Math.Pow(10, random.NextDouble() * 2 - 1);
        var x = new Activations(tokens, width);
        for (var t = 0; t < tokens; t++)
        {
            for (var i = 0; i < width; i++)
            {
                double sum = z[t * width + i];
                for (var k = 0; k < width; k++) sum += mix[i * width + k] * z[t * width + k];
                x.Data[t * width + i] = (float)(magnitude[i] * sum);
            }
        }
        return x;
    }

    /// <summary>Σ over tokens of ‖(A − B) x‖² for row-major [rows, cols] matrices.</summary>
    public static double OutputError(float[] a, float[] b, int rows, int cols, Activations x)
    {
        double total = 0;
        var d = new double[cols];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++) d[c] = (double)a[r * cols + c] - b[r * cols + c];
            for (var t = 0; t < x.Tokens; t++)
            {
                double dot = 0;
                for (var c = 0; c < cols; c++) dot += d[c] * x.Data[t * cols + c];
                total += dot * dot;
            }
        }
        return total;
    }

    /// <summary>H = 2 X Xᵀ / n (cols × cols), the GPTQ Hessian.</summary>
    public static double[] Hessian(Activations x)
    {
        var n = x.Width;
        var h = new double[n * n];
        for (var t = 0; t < x.Tokens; t++)
            for (var i = 0; i < n; i++)
            {
                double xi = x.Data[t * n + i];
                for (var j = 0; j < n; j++) h[i * n + j] += xi * x.Data[t * n + j];
            }
        for (var i = 0; i < h.Length; i++) h[i] *= 2.0 / x.Tokens;
        return h;
    }
}

/// <summary>A working model's logits at every position of some sequences, by the calibration forward (fp32 maths on its current weights).</summary>
internal static class GptqModelOutput
{
    public static Activations Logits(WorkingModel model, IReadOnlyList<int[]> sequences)
    {
        var c = model.Config;
        var forward = new CalibrationForward(c, sequences, threads: 2);
        var x = forward.Embed(model.GetFloats(TensorNames.TokenEmbedding));
        for (var l = 0; l < c.Layers; l++)
        {
            forward.Layer(x, new LlamaLayerWeights
            {
                AttentionNorm = model.GetFloats(TensorNames.AttentionNorm(l)), Wq = model.GetFloats(TensorNames.Wq(l)),
                Wk = model.GetFloats(TensorNames.Wk(l)), Wv = model.GetFloats(TensorNames.Wv(l)), Wo = model.GetFloats(TensorNames.Wo(l)),
                FfnNorm = model.GetFloats(TensorNames.FfnNorm(l)), W1 = model.GetFloats(TensorNames.W1(l)),
                W2 = model.GetFloats(TensorNames.W2(l)), W3 = model.GetFloats(TensorNames.W3(l)),
            });
        }
        var hidden = forward.RmsNorm(x, model.GetFloats(TensorNames.FinalNorm));
        return forward.Linear(hidden, model.GetFloats(c.SharedClassifier ? TensorNames.TokenEmbedding : TensorNames.Classifier), c.VocabSize);
    }

    public static double SquaredDifference(Activations a, Activations b)
    {
        double sum = 0;
        for (var i = 0; i < a.Data.Length; i++)
        {
            double d = a.Data[i] - b.Data[i];
            sum += d * d;
        }
        return sum;
    }
}
