using ModelSdk.Compression.Calibration;
using ModelSdk.Compression.LinearAlgebra;

namespace ModelSdk.Compression.Passes.Quantization;

/// <summary>
/// The weights a layer-wise quantizer should aim at once the earlier layers are quantized. A linear W sees inputs X in
/// the fp32 model but X̃ in the partly quantized one; plain GPTQ fits Q to W on X̃ (‖W X̃ − Q X̃‖²), which keeps the drift
/// X − X̃ that the earlier layers caused. Here GPTQ is given the target
/// <code>V = argmin ‖W X + E − V X̃‖² + λ ‖V − W‖²  =  (W (C + λI) + R) (H̃ + λI)⁻¹</code>
/// with H̃ = X̃ X̃ᵀ, C = X X̃ᵀ, R = E X̃ᵀ: V reproduces on X̃ what W computes on X, and for the matrices that write into the
/// residual stream (wo, w2) also E, the stream's own drift at that point (fp32 stream minus quantized stream), so their
/// output compensates it. λ is the same dampening as GPTQ's (a fraction of H̃'s mean diagonal), which keeps V near W where
/// the calibration inputs say little. Written as V = W + W·D + R·(H̃ + λI)⁻¹ with D = (C − H̃)(H̃ + λI)⁻¹.
/// </summary>
public static class OutputMatching
{
    /// <summary>
    /// Runs the fp32 layer <paramref name="weights"/> on the fp32 residual stream <paramref name="reference"/> (in place,
    /// so it moves on to the next layer) and keeps what the matching of the quantized layer needs: each input, and the
    /// stream as wo and w2 find it.
    /// </summary>
    public static LayerReference Reference(CalibrationForward forward, Activations reference, LlamaLayerWeights weights)
    {
        var inputs = new Dictionary<LinearInput, Activations>();
        var streams = new Dictionary<LinearInput, Activations>();
        forward.Layer(reference, weights, (input, activations) =>
        {
            inputs[input] = activations;
            if (WritesResidual(input)) streams[input] = reference.Clone();
        });
        return new LayerReference(inputs, streams);
    }

    /// <summary>
    /// The drift D and, for wo and w2, the residual term R·(H̃ + λI)⁻¹ of the matrices reading <paramref name="input"/>,
    /// whose activations in the quantized model are <paramref name="activations"/> (Gram matrix <paramref name="gram"/>) on
    /// the quantized stream <paramref name="stream"/>; feed them to <see cref="Target"/>.
    /// </summary>
    public static (double[] Drift, double[]? Residual) Corrections(CalibrationForward forward, LayerReference reference, LinearInput input,
        Activations activations, double[] gram, Activations stream, double damping)
    {
        var n = activations.Width;
        var inverse = DampedInverse(gram, n, damping);
        var drift = Drift(forward.CrossGram(reference.Inputs[input], activations), gram, inverse, n);
        if (!WritesResidual(input)) return (drift, null);
        var streamDrift = reference.Streams[input];
        for (var i = 0; i < streamDrift.Data.Length; i++) streamDrift.Data[i] -= stream.Data[i];
        return (drift, DenseDouble.Multiply(forward.CrossGram(streamDrift, activations), inverse, stream.Width, n, n));
    }

    /// <summary>The inputs of the matrices whose output is added to the residual stream (wo, w2).</summary>
    public static bool WritesResidual(LinearInput input) => input is LinearInput.AttentionOutput or LinearInput.FfnHidden;

    /// <summary>(H̃ + λI)⁻¹ with λ = <paramref name="damping"/> · mean diag H̃, raised ×10 (up to three times) if not positive definite.</summary>
    public static double[] DampedInverse(double[] gram, int n, double damping)
    {
        double mean = 0;
        for (var i = 0; i < n; i++) mean += gram[i * n + i];
        var lambda = damping * Math.Max(mean / n, double.Epsilon);
        for (var attempt = 0; attempt < 4; attempt++, lambda *= 10)
        {
            var damped = (double[])gram.Clone();
            for (var i = 0; i < n; i++) damped[i * n + i] += lambda;
            if (Cholesky.TryInverse(damped, n) is { } inverse) return inverse;
        }
        throw new InvalidOperationException($"An {n} × {n} calibration Gram matrix is not positive definite even with dampening {lambda:g3}.");
    }

    /// <summary>D = (C − H̃) · (H̃ + λI)⁻¹ (n × n) from the cross Gram matrix C = X X̃ᵀ and H̃ = X̃ X̃ᵀ.</summary>
    public static double[] Drift(double[] cross, double[] gram, double[] inverse, int n)
    {
        var difference = new double[cross.Length];
        for (var i = 0; i < difference.Length; i++) difference[i] = cross[i] - gram[i];
        return DenseDouble.Multiply(difference, inverse, n, n, n);
    }

    /// <summary>V = W + W·<paramref name="drift"/> + <paramref name="residual"/> for a row-major [rows, cols] W, as fp32.</summary>
    /// <param name="residual">R·(H̃ + λI)⁻¹ ([rows, cols]) for a matrix that writes into the residual stream, else null.</param>
    public static float[] Target(float[] weight, int rows, int cols, double[] drift, double[]? residual)
    {
        var w = new double[weight.Length];
        for (var i = 0; i < w.Length; i++) w[i] = weight[i];
        var correction = DenseDouble.Multiply(w, drift, rows, cols, cols);
        var target = new float[weight.Length];
        for (var i = 0; i < target.Length; i++) target[i] = (float)(w[i] + correction[i] + (residual?[i] ?? 0));
        return target;
    }
}

/// <summary>The fp32 layer's inputs and, at wo and w2, its residual stream (<see cref="OutputMatching.Reference"/>).</summary>
public sealed record LayerReference(IReadOnlyDictionary<LinearInput, Activations> Inputs, IReadOnlyDictionary<LinearInput, Activations> Streams);
