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
