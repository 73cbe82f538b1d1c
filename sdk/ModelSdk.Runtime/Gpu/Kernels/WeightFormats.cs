using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace ModelSdk.Runtime.Gpu.Kernels;

/// <summary>
/// 16 bytes of a weight row: what one thread loads at a time (<c>ld.global.v4.b32</c>, so a warp reads 512 contiguous
/// bytes per instruction). Every format stores its rows as whole chunks; a row's tail is zero-padded to a chunk.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct Chunk16
{
    public uint X, Y, Z, W;
}

/// <summary>
/// How a weight format turns a <see cref="Chunk16"/> into floats. Kernels take the format as a generic struct type
/// argument, so ILGPU compiles one specialized kernel per format and there is no dispatch per element. A quantized
/// format (blocks with scales) plugs in here as another struct.
/// </summary>
internal interface IWeightFormat
{
    /// <summary>Weights per 16-byte chunk.</summary>
    int ElementsPerChunk { get; }

    /// <summary>Σ chunk[j] · x[at + j] over the chunk's elements.</summary>
    float Dot(Chunk16 chunk, ArrayView<float> x, int at);

    /// <summary>Writes the chunk's first <paramref name="count"/> elements to dst[at + j·stride].</summary>
    void Expand(Chunk16 chunk, ArrayView<float> dst, long at, int stride, int count);
}

/// <summary>fp32 weights, 4 per chunk (the artifact's own layout).</summary>
internal struct F32Weights : IWeightFormat
{
    public readonly int ElementsPerChunk => 4;

    public readonly float Dot(Chunk16 c, ArrayView<float> x, int at)
        => Interop.IntAsFloat(c.X) * x[at] + Interop.IntAsFloat(c.Y) * x[at + 1]
         + Interop.IntAsFloat(c.Z) * x[at + 2] + Interop.IntAsFloat(c.W) * x[at + 3];

    public readonly void Expand(Chunk16 c, ArrayView<float> dst, long at, int stride, int count)
    {
        if (count > 0) dst[at] = Interop.IntAsFloat(c.X);
        if (count > 1) dst[at + stride] = Interop.IntAsFloat(c.Y);
        if (count > 2) dst[at + 2 * stride] = Interop.IntAsFloat(c.Z);
        if (count > 3) dst[at + 3 * stride] = Interop.IntAsFloat(c.W);
    }
}

/// <summary>fp16 weights (IEEE binary16, converted from fp32 at upload with round-to-nearest-even), 8 per chunk.</summary>
internal struct F16Weights : IWeightFormat
{
    public readonly int ElementsPerChunk => 8;

    private static float Low(uint u) => (float)Interop.IntAsFloat((ushort)(u & 0xFFFFu));

    private static float High(uint u) => (float)Interop.IntAsFloat((ushort)(u >> 16));

    public readonly float Dot(Chunk16 c, ArrayView<float> x, int at)
        => Low(c.X) * x[at] + High(c.X) * x[at + 1] + Low(c.Y) * x[at + 2] + High(c.Y) * x[at + 3]
         + Low(c.Z) * x[at + 4] + High(c.Z) * x[at + 5] + Low(c.W) * x[at + 6] + High(c.W) * x[at + 7];

    public readonly void Expand(Chunk16 c, ArrayView<float> dst, long at, int stride, int count)
    {
        if (count > 0) dst[at] = Low(c.X);
        if (count > 1) dst[at + stride] = High(c.X);
        if (count > 2) dst[at + 2 * stride] = Low(c.Y);
        if (count > 3) dst[at + 3 * stride] = High(c.Y);
        if (count > 4) dst[at + 4 * stride] = Low(c.Z);
        if (count > 5) dst[at + 5 * stride] = High(c.Z);
        if (count > 6) dst[at + 6 * stride] = Low(c.W);
        if (count > 7) dst[at + 7 * stride] = High(c.W);
    }
}
