using System.Runtime.CompilerServices;

namespace ModelSdk.Quantization;

/// <summary>IEEE binary16 as raw bits (how packed tensors store scales and how f16 tensors store values).</summary>
public static class HalfBits
{
    /// <summary>Round to the nearest fp16 (ties to even, as F16C's vcvtps2ph) and return its bits.</summary>
    public static ushort FromFloat(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>
    /// The float an fp16 holds. Branch-free for finite values: the exponent is rebased by multiplying with 2^112, which also
    /// handles subnormals (kernels use the same trick on vectors). Infinities and NaN never occur in packed tensors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort bits)
    {
        var magnitude = BitConverter.Int32BitsToSingle((bits & 0x7fff) << 13) * 5.192296858534828e+33f; // 2^112
        // The sign is ORed in, not branched on: Q4_0 scales have random signs, and a mispredicted branch per group costs more than the group's dot product.
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(magnitude) | (bits & 0x8000) << 16);
    }

    /// <summary>The value after a round trip through fp16.</summary>
    public static float Round(float value) => ToFloat(FromFloat(value));
}
