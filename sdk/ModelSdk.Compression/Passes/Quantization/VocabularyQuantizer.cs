using ModelSdk.Quantization;
using ModelSdk.Tensors;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// Quantizes the [vocab, dim] matrices (the token embedding, and the classifier when it is not shared) for the calibrated
/// passes. Each token looks one embedding row up, so no calibration statistic weighs the embedding's columns, and a shared
/// classifier must serve as the embedding too: the objective is the plain rounding error, minimized per group by
/// <see cref="PackedTensor.QuantizeFitted"/> (on stories15M, int4 g32 asymmetric, this cut the group's squared error and
/// the model's KL divergence to fp32 compared with RTN; see the README).
/// </summary>
public static class VocabularyQuantizer
{
    /// <summary>Quantizes every vocabulary matrix of <paramref name="model"/>; returns the embedding as the quantized model sees it.</summary>
    public static float[] Quantize(WorkingModel model, TensorFormat format)
    {
        float[]? embedding = null;
        foreach (var name in model.VocabularyMatrices)
        {
            var tensor = model[name];
            var packed = PackedTensor.QuantizeFitted(format, model.GetFloats(name), tensor.Rows, tensor.Cols);
            model.SetPacked(name, packed);
            if (name == TensorNames.TokenEmbedding) embedding = packed.Dequantize();
        }
        return embedding ?? throw new InvalidOperationException("The model has no token embedding.");
    }
}
