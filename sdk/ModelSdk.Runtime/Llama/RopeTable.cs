using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// RoPE angles for every position, computed once per model with llama2.c's float formula
/// (<c>freq = 1 / theta^((i mod headSize)/headSize)</c>, <c>val = pos · freq</c>). Per position it stores, for each of the
/// headSize elements, cos(val) and the signed sin (−sin for the even element of a pair, +sin for the odd one), the
/// layout <see cref="Kernels.Cpu.Rope"/> consumes.
/// </summary>
internal sealed unsafe class RopeTable : IDisposable
{
    private float* _cos;
    private float* _sin;

    public RopeTable(int contextLength, int headSize, float theta)
    {
        HeadSize = headSize;
        var count = (nuint)((long)contextLength * headSize * sizeof(float));
        _cos = (float*)NativeMemory.AlignedAlloc(count, 64);
        _sin = (float*)NativeMemory.AlignedAlloc(count, 64);
        for (var pos = 0; pos < contextLength; pos++)
        {
            var c = _cos + (long)pos * headSize;
            var s = _sin + (long)pos * headSize;
            for (var i = 0; i < headSize; i += 2)
            {
                var freq = 1.0f / MathF.Pow(theta, i / (float)headSize);
                var val = pos * freq;
                var fcr = MathF.Cos(val);
                var fci = MathF.Sin(val);
                c[i] = fcr;
                c[i + 1] = fcr;
                s[i] = -fci;
                s[i + 1] = fci;
            }
        }
    }

    public int HeadSize { get; }

    public float* Cos(int pos) => _cos + (long)pos * HeadSize;

    public float* SinSigned(int pos) => _sin + (long)pos * HeadSize;

    public void Dispose()
    {
        NativeMemory.AlignedFree(_cos);
        NativeMemory.AlignedFree(_sin);
        _cos = _sin = null;
    }
}
