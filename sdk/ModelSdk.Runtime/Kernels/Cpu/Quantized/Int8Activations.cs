using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels.Cpu.Quantized;

/// <summary>
/// The activation side of W8A8 (SmoothQuant): x quantized to int8 per token, symmetric, one scale for the whole vector
/// (d = max|x| / 127, q = round-to-even(x / d) in −127..127; −128 is never used, so |q| fits the unsigned operand of
/// <c>vpmaddubsw</c>). Unlike <see cref="QuantizedActivations"/> (int16 per 32-value block) this is as coarse as the
/// paper's per-token scheme: an outlier channel sets the step for every channel of the token, which is what smoothing
/// moves into the weights. Computed once per matrix-vector call by this one routine for every kernel width and for the
/// reference, so all of them see identical activations; its AVX2 form gives the scalar form's bits (tested).
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
    public void Quantize(float* x, int cols) => Quantize(x, cols, Avx2.IsSupported);

    /// <summary>The routine with its AVX2 form on or off (the tests compare the two).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Quantize(float* x, int cols, bool vectorized)
    {
        if (cols > _capacity)
        {
            if (Values is not null) NativeMemory.AlignedFree(Values);
            Values = (sbyte*)NativeMemory.AlignedAlloc((nuint)cols + 64, 64);
            _capacity = cols;
        }
        Cols = cols;
        var vectorCols = vectorized ? cols - cols % 32 : 0;
        var m = Vector256<float>.Zero;
        for (var i = 0; i < vectorCols; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
        var largest = Softmax.HorizontalMax(m);
        for (var i = vectorCols; i < cols; i++) largest = MathF.Max(largest, MathF.Abs(x[i]));
        Scale = largest / 127f;
        var inverse = Scale != 0 ? 1f / Scale : 0f;
        var scale = Vector256.Create(inverse);
        Vector256<float> low = Vector256.Create(-127f), high = Vector256.Create(127f);
        Vector256<int> Code(float* p) => Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Avx.RoundToNearestInteger(Vector256.Load(p) * scale), low), high));
        for (var i = 0; i < vectorCols; i += 32)
        {
            // Two in-lane packs (int32 → int16 → int8) leave 4-value groups as c0a c1a c2a c3a c0b c1b c2b c3b (a, b: each
            // 8-value vector's halves); one permute restores natural order. Codes are clamped to ±127 first: no saturation.
            var words = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(Code(x + i), Code(x + i + 8)), Avx2.PackSignedSaturate(Code(x + i + 16), Code(x + i + 24)));
            Avx2.PermuteVar8x32(words.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte().Store(Values + i);
        }
        for (var i = vectorCols; i < cols; i++) Values[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * inverse), -127f, 127f);
    }
}
