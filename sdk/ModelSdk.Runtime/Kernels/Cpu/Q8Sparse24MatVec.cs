using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelSdk.Runtime.Kernels.Cpu.Quantized;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Runtime.Kernels.Cpu;

/// <summary>
/// <c>y[r] (+)= W[r,:] · x</c> over a range of rows of a 2:4 sparse int8 matrix (q8_gN_sparse24): the integer dot products
/// of <see cref="QuantizedMatVec"/> on the kept codes only. x is quantized per 32-input block to int16 as for the dense
/// q8 types (<see cref="QuantizedActivations"/>); the activations at the kept positions are gathered in registers, meet
/// the 16 kept codes of the block (widened to int16) in <c>vpmaddwd</c> — exact — and are scaled by weight scale ×
/// activation scale with one FMA. So the result is the dense q8 product of the same codes, from 0.65 of its bytes
/// (q8_g32: 0.5 byte of code + 1/8 of position + 1/16 of scale per weight, against 1 + 1/16).
/// <para>
/// AVX-512BW: two blocks (64 inputs, 32 kept values, one 64-bit position word) per step; kept value l sits at bits 2l..2l+1
/// of the word, so its input is 4·(l / 2) + ((byte l/4 >> 2·(l % 4)) &amp; 3): <c>vpshufb</c> spreads byte l/4 to 16-bit
/// lane l, <c>vpsrlvw</c>, an AND and an add make the 32 indices, and <c>vpermt2w</c> picks the activations from the
/// step's two 32-input registers. AVX2: one block per step; each position byte (two groups, 8 inputs = one 128-bit lane
/// of int16) indexes a table of <c>vpshufb</c> controls that gather its 4 kept activations into half a lane.
/// Narrower widths run <see cref="Sparse24MatVecReference"/>, which defines the results.
/// </para>
/// </summary>
internal static unsafe class Q8Sparse24MatVec
{
    /// <summary>[byte][16]: <c>vpshufb</c> control putting the 4 kept int16 activations of the byte's two groups in bytes 0–7 (rest zeroed).</summary>
    private static readonly byte[] LowTable = BuildTable(0);

    /// <summary>As <see cref="LowTable"/>, into bytes 8–15.</summary>
    private static readonly byte[] HighTable = BuildTable(8);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in WeightMatrix w, float* x, float* y, int rowStart, int rowEnd, bool accumulate, VectorWidth width)
    {
        if (rowStart >= rowEnd) return;
        var a = QuantizedActivations.For(x, w.Cols, w.GroupSize, w.Asymmetric);
        if (width >= VectorWidth.V512 && Avx512BW.IsSupported)
        {
            Rows512(w, a, y, rowStart, rowEnd, accumulate);
            return;
        }
        if (width >= VectorWidth.V256 && Avx2.IsSupported && Fma.IsSupported)
        {
            fixed (byte* low = LowTable, high = HighTable) Rows256(w, a, y, rowStart, rowEnd, accumulate, low, high);
            return;
        }
        Sparse24MatVecReference.Rows(w, a, y, rowStart, rowEnd, accumulate);
    }

    private static void Rows512(in WeightMatrix w, QuantizedActivations a, float* y, int rowStart, int rowEnd, bool accumulate)
    {
        int cols = w.Cols, blocks = a.Blocks;
        Vector512<byte> spread;
        Vector512<ushort> shifts, bases;
        {
            var spreadBytes = stackalloc byte[64];
            var shiftLanes = stackalloc ushort[32];
            var baseLanes = stackalloc ushort[32];
            for (var l = 0; l < 32; l++)
            {
                spreadBytes[2 * l] = (byte)(l / 4);
                spreadBytes[2 * l + 1] = 0x80;
                shiftLanes[l] = (ushort)(2 * (l % 4));
                baseLanes[l] = (ushort)(4 * (l / 2));
            }
            spread = Vector512.Load(spreadBytes);
            shifts = Vector512.Load(shiftLanes);
            bases = Vector512.Load(baseLanes);
        }
        var three = Vector512.Create((ushort)3);
        var pairs = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        var s = a.RowScales;
        for (var r = rowStart; r < rowEnd; r++)
        {
            QuantizedMatVec.PrepareRow256(w, r, a, a.RowScales);
            var codes = (sbyte*)w.Data + (long)r * (cols / 2);
            var positions = w.Positions + (long)r * (cols / 8);
            Vector512<float> a0 = default, a1 = default;
            var b = 0;
            for (; b + 4 <= blocks; b += 4)
            {
                a0 = Avx512F.FusedMultiplyAdd(TwoBlocks(codes + 16 * b, *(ulong*)(positions + 4 * b), a.Values + 32 * b, Vector512.Load(a.Values + 32 * b + 32)),
                    Scales(s + b, pairs), a0);
                a1 = Avx512F.FusedMultiplyAdd(TwoBlocks(codes + 16 * b + 32, *(ulong*)(positions + 4 * b + 8), a.Values + 32 * b + 64, Vector512.Load(a.Values + 32 * b + 96)),
                    Scales(s + b + 2, pairs), a1);
            }
            for (; b + 2 <= blocks; b += 2)
                a0 = Avx512F.FusedMultiplyAdd(TwoBlocks(codes + 16 * b, *(ulong*)(positions + 4 * b), a.Values + 32 * b, Vector512.Load(a.Values + 32 * b + 32)),
                    Scales(s + b, pairs), a0);
            if (b < blocks)
            {
                // The last, odd block: the second half gets zero codes, zero activations and a zero scale.
                var index = Index(*(uint*)(positions + 4 * b), spread, shifts, three, bases);
                var inputs = Avx512BW.PermuteVar32x16x2(Vector512.Load(a.Values + 32 * b), index.AsInt16(), Vector512<short>.Zero);
                var kept = Avx512BW.ConvertToVector512Int16(Vector256.Create(Vector128.Load(codes + 16 * b), Vector128<sbyte>.Zero));
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(kept, inputs)),
                    Vector512.Create(Vector256.Create(s[b]), Vector256<float>.Zero), a1);
            }
            var sum = Vector512.Sum(a0 + a1);
            y[r] = accumulate ? y[r] + sum : sum;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            Vector512<float> TwoBlocks(sbyte* kept, ulong word, short* x, Vector512<short> upper)
            {
                var index = Index(word, spread, shifts, three, bases);
                var inputs = Avx512BW.PermuteVar32x16x2(Vector512.Load(x), index.AsInt16(), upper);
                return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(kept)), inputs));
            }
        }
    }

    /// <summary>
    /// Block b's scale in lanes 0–7, block b + 1's in lanes 8–15: one permute of 16 loaded scales (the activation buffers
    /// hold 16 floats of slack past the last block, so the load never leaves them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales(float* s, Vector512<int> pairs) => Avx512F.PermuteVar16x32(Vector512.Load(s), pairs);

    /// <summary>The 32 input indices (0..63) of the kept values whose positions are the 64-bit word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ushort> Index(ulong word, Vector512<byte> spread, Vector512<ushort> shifts, Vector512<ushort> three, Vector512<ushort> bases)
        => (Avx512BW.ShiftRightLogicalVariable(Avx512BW.Shuffle(Vector512.Create(word).AsByte(), spread).AsUInt16(), shifts) & three) + bases;

    private static void Rows256(in WeightMatrix w, QuantizedActivations a, float* y, int rowStart, int rowEnd, bool accumulate, byte* low, byte* high)
    {
        int cols = w.Cols, blocks = a.Blocks;
        var s = a.RowScales;
        for (var r = rowStart; r < rowEnd; r++)
        {
            QuantizedMatVec.PrepareRow256(w, r, a, a.RowScales);
            var codes = (sbyte*)w.Data + (long)r * (cols / 2);
            var positions = w.Positions + (long)r * (cols / 8);
            Vector256<float> a0 = default, a1 = default;
            var b = 0;
            for (; b + 2 <= blocks; b += 2)
            {
                a0 = Fma.MultiplyAdd(Block(codes + 16 * b, positions + 4 * b, a.Values + 32 * b, low, high), Vector256.Create(s[b]), a0);
                a1 = Fma.MultiplyAdd(Block(codes + 16 * b + 16, positions + 4 * b + 4, a.Values + 32 * b + 32, low, high), Vector256.Create(s[b + 1]), a1);
            }
            if (b < blocks) a0 = Fma.MultiplyAdd(Block(codes + 16 * b, positions + 4 * b, a.Values + 32 * b, low, high), Vector256.Create(s[b]), a0);
            var sum = Vector256.Sum(a0 + a1);
            y[r] = accumulate ? y[r] + sum : sum;
        }
    }

    /// <summary>
    /// One 32-input block: the kept activations come out as [kept 0–3, 8–11 | 4–7, 12–15] (each 128-bit lane of x holds two
    /// groups), so the widened codes are put in that order by one <c>vpermq</c>; 8 int32 partial sums, as fp32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block(sbyte* kept, byte* positions, short* x, byte* low, byte* high)
    {
        var first = Avx2.Shuffle(Vector256.Load((byte*)x), Vector256.Create(Vector128.Load(low + 16 * positions[0]), Vector128.Load(low + 16 * positions[1])));
        var second = Avx2.Shuffle(Vector256.Load((byte*)(x + 16)), Vector256.Create(Vector128.Load(high + 16 * positions[2]), Vector128.Load(high + 16 * positions[3])));
        var codes = Avx2.Permute4x64(Avx2.ConvertToVector256Int16(kept).AsInt64(), 0b11_01_10_00).AsInt16();
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(codes, (first | second).AsInt16()));
    }

    private static byte[] BuildTable(int at)
    {
        var table = new byte[256 * 16];
        table.AsSpan().Fill(0x80);
        for (var p = 0; p < 256; p++)
        {
            for (var j = 0; j < 4; j++)
            {
                // Kept value j of the byte: group j / 2 (low nibble, inputs 0..3; high nibble, inputs 4..7), its 2-bit position.
                var input = 4 * (j / 2) + ((p >> (4 * (j / 2) + 2 * (j % 2))) & 3);
                table[p * 16 + at + 2 * j] = (byte)(2 * input);
                table[p * 16 + at + 2 * j + 1] = (byte)(2 * input + 1);
            }
        }
        return table;
    }
}
