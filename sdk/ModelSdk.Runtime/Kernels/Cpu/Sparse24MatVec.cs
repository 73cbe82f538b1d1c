using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// <c>y[r] (+)= W[r,:] · x</c> over a range of rows of a 2:4 sparse matrix (<see cref="Tensors.TensorFormat.Sparse24"/>): half the
/// multiply-adds of a dense row and 0.53 (fp32) or 0.56 (fp16) of its bytes. AVX2: 16 inputs (4 groups, two position bytes)
/// per step — each position byte indexes a table of permutation vectors that <c>vpermps</c> uses to gather the inputs of
/// its two groups' kept values from one 8-input register, the low byte's into lanes 0–3 and the high byte's into lanes
/// 4–7, a blend joins them, and one FMA multiplies them with 8 kept values. fp16 values are widened as in
/// <see cref="QuantizedMatVec"/>; int8 matrices go to <see cref="Q8Sparse24MatVec"/>. The scalar
/// <see cref="Sparse24MatVecReference"/> defines the results and runs on narrower widths.
/// </summary>
internal static unsafe class Sparse24MatVec
{
    /// <summary>[byte][lane]: the inputs (0..7 of an 8-input register) of the kept values of the byte's two groups, in lanes 0–3.</summary>
    private static readonly int[] LowTable = BuildTable(0);

    /// <summary>As <see cref="LowTable"/>, in lanes 4–7.</summary>
    private static readonly int[] HighTable = BuildTable(4);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate, VectorWidth width)
    {
        if (rowStart >= rowEnd) return;
        if (w.Bits == 8)
        {
            Q8Sparse24MatVec.Rows(w, x, y, rowStart, rowEnd, accumulate, width);
            return;
        }
        if (width < VectorWidth.V256 || !Avx2.IsSupported || !Fma.IsSupported)
        {
            Sparse24MatVecReference.Rows(w, x, y, rowStart, rowEnd, accumulate);
            return;
        }
        if (width >= VectorWidth.V512 && Avx512F.IsSupported)
        {
            if (w.Bits == 16) Rows512<F16Values>(w, x, y, rowStart, rowEnd, accumulate);
            else Rows512<F32Values>(w, x, y, rowStart, rowEnd, accumulate);
            return;
        }
        fixed (int* low = LowTable, high = HighTable)
        {
            if (w.Bits == 16) Rows256<F16Values>(w, x, y, rowStart, rowEnd, accumulate, low, high);
            else Rows256<F32Values>(w, x, y, rowStart, rowEnd, accumulate, low, high);
        }
    }

    /// <summary>Loads 8 kept values (fp32 or fp16) as fp32; a struct type argument, so the JIT specializes the loop per precision.</summary>
    private interface IValues
    {
        static abstract Vector256<float> Load8(byte* values, long index);

        static abstract Vector512<float> Load16(byte* values, long index);
    }

    private struct F32Values : IValues
    {
        public static Vector256<float> Load8(byte* values, long index) => Vector256.Load((float*)values + index);

        public static Vector512<float> Load16(byte* values, long index) => Vector512.Load((float*)values + index);
    }

    private struct F16Values : IValues
    {
        public static Vector256<float> Load8(byte* values, long index) => QuantizedMatVec.HalfToFloat256((ushort*)values + index);

        public static Vector512<float> Load16(byte* values, long index) => QuantizedMatVec.HalfToFloat512((ushort*)values + index);
    }

    private static void Rows256<TValues>(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate, int* low, int* high)
        where TValues : struct, IValues
    {
        int cols = w.Cols, steps = cols / 16;
        for (var r = rowStart; r < rowEnd; r++)
        {
            var values = (long)r * (cols / 2);
            var positions = w.Positions + (long)r * (cols / 8);
            Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
            var s = 0;
            for (; s + 2 <= steps; s += 2)
            {
                a0 = Fma.MultiplyAdd(TValues.Load8(w.Data, values + 8 * s), Select(x + 16 * s, positions + 2 * s, low, high), a0);
                a1 = Fma.MultiplyAdd(TValues.Load8(w.Data, values + 8 * s + 8), Select(x + 16 * s + 16, positions + 2 * s + 2, low, high), a1);
            }
            if (s < steps) a0 = Fma.MultiplyAdd(TValues.Load8(w.Data, values + 8 * s), Select(x + 16 * s, positions + 2 * s, low, high), a0);
            var sum = Vector256.Sum(a0 + a1) + Tail(w, r, x, steps * 16);
            y[r] = accumulate ? y[r] + sum : sum;
        }
    }

    /// <summary>
    /// AVX-512: 32 inputs (8 groups, 4 position bytes read as one 32-bit word) per step. Kept value l of the step sits at
    /// bits 2l..2l+1 of the word, so its input index is 4·(l / 2) + ((word >> 2l) &amp; 3): one variable shift, an AND and an
    /// add make the 16 indices, and <c>vpermt2ps</c> picks them from the step's two 16-input registers.
    /// </summary>
    private static void Rows512<TValues>(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate)
        where TValues : struct, IValues
    {
        int cols = w.Cols, steps = cols / 32;
        var shifts = Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var bases = Vector512.Create(0u, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
        var three = Vector512.Create(3u);
        for (var r = rowStart; r < rowEnd; r++)
        {
            var positions = (uint*)(w.Positions + (long)r * (cols / 8));
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
            for (var s = 0; s < steps; s++)
            {
                var index = (Avx512F.ShiftRightLogicalVariable(Vector512.Create(positions[s]), shifts) & three) + bases;
                var inputs = Avx512F.PermuteVar16x32x2(Vector512.Load(x + 32 * s), index.AsInt32(), Vector512.Load(x + 32 * s + 16));
                var values = TValues.Load16(w.Data, (long)r * (cols / 2) + 16 * s);
                if ((s & 1) == 0) a0 = Avx512F.FusedMultiplyAdd(values, inputs, a0);
                else a1 = Avx512F.FusedMultiplyAdd(values, inputs, a1);
            }
            var sum = Vector512.Sum(a0 + a1) + (steps * 32 < cols ? Sparse24MatVecReference.Dot(w, r, x, steps * 8, cols / 4) : 0);
            y[r] = accumulate ? y[r] + sum : sum;
        }
    }

    /// <summary>The 8 inputs that 16 inputs' 8 kept values multiply, in the kept values' order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Select(float* x, byte* positions, int* low, int* high)
    {
        var first = Avx2.PermuteVar8x32(Vector256.Load(x), Vector256.Load(low + 8 * positions[0]));
        var second = Avx2.PermuteVar8x32(Vector256.Load(x + 8), Vector256.Load(high + 8 * positions[1]));
        return Avx.Blend(first, second, 0xF0);
    }

    /// <summary>The last 8 inputs of a row whose length is not a multiple of 16 (scalar).</summary>
    private static float Tail(in WeightMatrix w, int row, float* x, int from)
        => from >= w.Cols ? 0 : Sparse24MatVecReference.Dot(w, row, x, from / 4, w.Cols / 4);

    private static int[] BuildTable(int lane)
    {
        var table = new int[256 * 8];
        for (var b = 0; b < 256; b++)
        {
            // Group 0 (low nibble) reads inputs 0..3, group 1 (high nibble) inputs 4..7 of the register.
            table[b * 8 + lane + 0] = b & 3;
            table[b * 8 + lane + 1] = (b >> 2) & 3;
            table[b * 8 + lane + 2] = 4 + ((b >> 4) & 3);
            table[b * 8 + lane + 3] = 4 + ((b >> 6) & 3);
        }
        return table;
    }
}
