using ModelSdk.Architecture;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Which matrices a weight-quantization pass transforms, and the options every such pass shares. By default all of
/// them, as llama.cpp and the reference table in ../shared/eval do: every attention and feed-forward matrix, and the
/// token embedding / classifier (the runtime dequantizes embedding rows on lookup). Norm weights always stay fp32.
/// </summary>
public static class QuantizationTargets
{
    /// <summary>Option (Model item metadata) that keeps the vocabulary matrices fp32 when "false".</summary>
    public const string QuantizeClassifierOption = "QuantizeClassifier";

    public const string GroupSizeOption = "GroupSize";

    public const string SymmetricOption = "Symmetric";

    /// <summary>The matrices to transform: the layers' seven matrices, then (unless kept) the embedding and classifier.</summary>
    public static IReadOnlyList<string> Select(WorkingModel model, bool includeVocabulary)
        => includeVocabulary ? [.. model.LayerMatrices, .. model.VocabularyMatrices] : model.LayerMatrices;

    /// <summary>
    /// MSDK1013 unless every quantized row is a whole number of 32-value blocks: dim (wq, wk, wv, wo, w1, w3, embedding,
    /// classifier) and hidden_dim (w2). A group size that does not divide a row is fine: the row's last group is shorter
    /// (stories15M's dim 288 with GroupSize 64: four groups of 64 and one of 32).
    /// </summary>
    public static void ValidateGroupSize(LlamaConfig config, int groupSize, string passName)
        => ValidateRowBlocks(config, $"{passName} (GroupSize={groupSize.ToString(System.Globalization.CultureInfo.InvariantCulture)})");

    /// <summary>MSDK1013 unless dim and hidden_dim are multiples of 32, the block every packed row is made of (<paramref name="passName"/> as the message names it).</summary>
    public static void ValidateRowBlocks(LlamaConfig config, string passName)
    {
        foreach (var (dimension, length) in new[] { ("dim", config.Dim), ("hidden_dim", config.HiddenDim) })
        {
            if (length % TensorFormats.BlockSize != 0)
                throw new ModelSdkException(DiagnosticCodes.GroupSizeDoesNotDivide,
                    $"{passName} quantizes rows in blocks of {TensorFormats.BlockSize} values, but the model's {dimension} is {length}, " +
                    $"not a multiple of {TensorFormats.BlockSize}: this model cannot be quantized group-wise; use f16.");
        }
    }

    /// <summary>Canonical spelling of a boolean option value.</summary>
    public static string Canonical(bool value) => value ? "true" : "false";
}
