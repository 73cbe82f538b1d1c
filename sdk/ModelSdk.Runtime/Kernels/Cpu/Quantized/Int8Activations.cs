using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// The activation side of W8A8 (SmoothQuant): x quantized to int8 per token, symmetric, one scale for the whole vector
/// (d = max|x| / 127, q = round-to-even(x / d) in −127..127; −128 is never used, so |q| fits the unsigned operand of
/// <c>vpmaddubsw</c>). Unlike <see cref="QuantizedActivations"/> (int16 per 32-value block) this is as coarse as the
/// paper's per-token scheme: an outlier channel sets the step for every channel of the token, which is what smoothing
/// moves into the weights. Computed once per matrix-vector call by this one scalar routine for every kernel width and
/// for the reference, so all of them see identical activations.
/// </summary>
internal sealed unsafe class Int8Activations
{
    [ThreadStatic] private static Int8Activations? _perThread;

    private int _capacity;

    /// <summary>int8 codes, [cols], 64-byte aligned.</summary>
    public sbyte* Values;

    /// <summary>The token's scale d: x ≈ d · q.</summary>
    public float Scale;

    public int Cols;

    /// <summary>The buffer goes when its thread does.</summary>
    ~Int8Activations()
    {
        if (Values is not null) NativeMemory.AlignedFree(Values);
    }

    /// <summary>This thread's buffer, filled for <paramref name="x"/> (valid until the thread's next call).</summary>
    public static Int8Activations For(float* x, int cols)
    {
        var q = _perThread ??= new Int8Activations();
        q.Quantize(x, cols);
        return q;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Quantize(float* x, int cols)
    {
        if (cols > _capacity)
        {
            if (Values is not null) NativeMemory.AlignedFree(Values);
            Values = (sbyte*)NativeMemory.AlignedAlloc((nuint)cols + 64, 64);
            _capacity = cols;
        }
        Cols = cols;
        float amax = 0;
        for (var i = 0; i < cols; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        Scale = amax / 127f;
        var inverse = Scale != 0 ? 1f / Scale : 0f;
        for (var i = 0; i < cols; i++) Values[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * inverse), -127f, 127f);
    }
}
