using ModelSdk.Artifacts;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Runtime.Llama;

/// <summary>Weights read in place from a memory-mapped <c>.msdk</c> artifact; every tensor's type and shape is checked first.</summary>
internal sealed unsafe class ArtifactLlamaWeights : LlamaWeights
{
    public ArtifactLlamaWeights(ModelArtifact artifact) : base(artifact.Manifest.Config)
    {
        var c = Config;
        float* Get(string name, params long[] shape)
        {
            if (!artifact.Contains(name))
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt, $"The model artifact has no tensor '{name}'.", artifact.FilePath);
            var entry = artifact.GetEntry(name);
            if (entry.Type != TensorType.F32.ToManifestName() || !entry.Shape.AsSpan().SequenceEqual(shape))
                throw new ModelSdkException(DiagnosticCodes.ArtifactCorrupt,
                    $"Tensor '{name}' is {entry.Type} [{string.Join(", ", entry.Shape)}]; the model's shape needs f32 [{string.Join(", ", shape)}].",
                    artifact.FilePath);
            return (float*)artifact.GetPointer(name);
        }

        long dim = c.Dim, kv = c.KvDim, hidden = c.HiddenDim;
        TokenEmbedding = Get(TensorNames.TokenEmbedding, c.VocabSize, dim);
        FinalNorm = Get(TensorNames.FinalNorm, dim);
        Classifier = c.SharedClassifier ? TokenEmbedding : Get(TensorNames.Classifier, c.VocabSize, dim);
        for (var l = 0; l < c.Layers; l++)
        {
            Layers[l] = new LayerWeights
            {
                AttentionNorm = Get(TensorNames.AttentionNorm(l), dim),
                Wq = Get(TensorNames.Wq(l), dim, dim),
                Wk = Get(TensorNames.Wk(l), kv, dim),
                Wv = Get(TensorNames.Wv(l), kv, dim),
                Wo = Get(TensorNames.Wo(l), dim, dim),
                FfnNorm = Get(TensorNames.FfnNorm(l), dim),
                W1 = Get(TensorNames.W1(l), hidden, dim),
                W2 = Get(TensorNames.W2(l), dim, hidden),
                W3 = Get(TensorNames.W3(l), hidden, dim),
            };
        }
    }
}
