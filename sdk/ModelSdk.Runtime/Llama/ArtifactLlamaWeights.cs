using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Llama;

/// <summary>Weights read in place from a memory-mapped <c>.msdk</c> artifact; every tensor's type and shape is checked first.</summary>
internal sealed unsafe class ArtifactLlamaWeights : LlamaWeights
{
    private byte* _copy;

    public ArtifactLlamaWeights(ModelArtifact artifact, bool copyToHugePages) : base(artifact.Manifest.Config)
    {
        var c = Config;
        var names = new List<string>();
        float* Get(string name, params long[] shape) => GetTyped(name, false, shape);
        // Matrices may be stored in any numeric type of the traits table (f32, f16, packed); norms are always f32.
        float* GetMatrix(string name, params long[] shape) => GetTyped(name, true, shape);
        float* GetTyped(string name, bool matrix, long[] shape)
        {
            if (!artifact.Contains(name))
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt, $"The model artifact has no tensor '{name}'.", artifact.FilePath);
            var entry = artifact.GetEntry(name);
            var typeOk = TensorTypeExtensions.TryParse(entry.Type, out var type) && (matrix ? type != TensorType.U8 : type == TensorType.F32);
            if (!typeOk || !entry.Shape.AsSpan().SequenceEqual(shape))
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt,
                    $"Tensor '{name}' is {entry.Type} [{string.Join(", ", entry.Shape)}]; the model's shape needs {(matrix ? "a weight matrix" : "f32")} [{string.Join(", ", shape)}].",
                    artifact.FilePath);
            names.Add(name);
            return (float*)artifact.GetPointer(name);
        }
        TensorType TypeOf(string name)
        {
            TensorTypeExtensions.TryParse(artifact.GetEntry(name).Type, out var type);
            return type;
        }
        WeightMatrix Weight(string name, long rows, long cols) => new(TypeOf(name), GetMatrix(name, rows, cols), (int)rows, (int)cols);
        // A block matrix is stored dense under its name, or as its low-rank factors A and B (TensorNames.LowRankA/B).
        LayerMatrix Layer(string name, long rows, long cols)
        {
            string a = TensorNames.LowRankA(name), b = TensorNames.LowRankB(name);
            if (!artifact.Contains(a) && !artifact.Contains(b)) return LayerMatrix.Dense(Weight(name, rows, cols));
            if (artifact.Contains(name))
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt, $"The model artifact stores '{name}' both dense and as low-rank factors.", artifact.FilePath);
            var inner = artifact.Contains(a) ? artifact.GetEntry(a).Shape : [];
            var rank = inner.Length == 2 ? inner[0] : 0;
            if (rank < 1 || rank > int.MaxValue)
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt,
                    $"The model artifact stores '{name}' as low-rank factors but '{a}' is {(artifact.Contains(a) ? $"[{string.Join(", ", inner)}], not [rank, {cols}]" : "missing")}.", artifact.FilePath);
            return LayerMatrix.Factored(Weight(a, rank, cols), Weight(b, rows, rank));
        }

        long dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        TokenEmbedding = GetMatrix(TensorNames.TokenEmbedding, c.VocabSize, dim);
        EmbeddingType = TypeOf(TensorNames.TokenEmbedding);
        FinalNorm = Get(TensorNames.FinalNorm, dim);
        Classifier = c.SharedClassifier ? TokenEmbedding : GetMatrix(TensorNames.Classifier, c.VocabSize, dim);
        ClassifierType = c.SharedClassifier ? EmbeddingType : TypeOf(TensorNames.Classifier);
        for (var l = 0; l < c.Layers; l++)
        {
            Layers[l] = new LayerWeights
            {
                AttentionNorm = Get(TensorNames.AttentionNorm(l), dim),
                Wq = Layer(TensorNames.Wq(l), dim, dim),
                Wk = Layer(TensorNames.Wk(l), kv, dim),
                Wv = Layer(TensorNames.Wv(l), kv, dim),
                Wo = Layer(TensorNames.Wo(l), dim, dim),
                FfnNorm = Get(TensorNames.FfnNorm(l), dim),
                W1 = Layer(TensorNames.W1(l), hidden, dim),
                W2 = Layer(TensorNames.W2(l), dim, hidden),
                W3 = Layer(TensorNames.W3(l), hidden, dim),
            };
        }
        if (copyToHugePages) CopyToHugePages(artifact, names);
    }

    /// <summary>
    /// Moves every tensor into one huge-page backed block (see <see cref="Memory.HugePages"/>) and repoints the weights at
    /// it; the mapping's pages are not touched again, so the OS can drop them from the page cache.
    /// </summary>
    private void CopyToHugePages(ModelArtifact artifact, List<string> names)
    {
        var offsets = new Dictionary<nint, long>();
        long total = 0;
        foreach (var name in names)
        {
            var source = (nint)artifact.GetPointer(name);
            if (offsets.ContainsKey(source)) continue;
            offsets[source] = total;
            total += (artifact.GetEntry(name).Length + 63) & ~63L;
        }
        _copy = (byte*)Memory.HugePages.Allocate((nuint)total);
        foreach (var name in names.Distinct())
        {
            var source = artifact.GetPointer(name);
            var length = artifact.GetEntry(name).Length;
            Buffer.MemoryCopy(source, _copy + offsets[(nint)source], length, length);
        }
        float* Moved(float* p) => (float*)(_copy + offsets[(nint)p]);
        nint Move(nint p) => (nint)(_copy + offsets[p]);
        TokenEmbedding = Moved(TokenEmbedding);
        FinalNorm = Moved(FinalNorm);
        Classifier = Moved(Classifier);
        for (var l = 0; l < Layers.Length; l++)
        {
            ref var layer = ref Layers[l];
            layer.AttentionNorm = Moved(layer.AttentionNorm);
            layer.Wq = layer.Wq.Relocated(Move);
            layer.Wk = layer.Wk.Relocated(Move);
            layer.Wv = layer.Wv.Relocated(Move);
            layer.Wo = layer.Wo.Relocated(Move);
            layer.FfnNorm = Moved(layer.FfnNorm);
            layer.W1 = layer.W1.Relocated(Move);
            layer.W2 = layer.W2.Relocated(Move);
            layer.W3 = layer.W3.Relocated(Move);
        }
    }

    public override void Dispose()
    {
        if (_copy is null) return;
        Memory.HugePages.Free(_copy);
        _copy = null;
    }
}
